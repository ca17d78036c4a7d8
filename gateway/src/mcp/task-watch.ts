// Tasks extension (SEP-2663): a server answers a task-capable request (tools/call) with a CreateTaskResult, a
// flat `Result & Task` with `resultType: "task"` and the `taskId` the client then names in `Mcp-Name` on every
// tasks/get, tasks/update and tasks/cancel. The task lives on the replica that answered, so the gateway must
// learn the id from that answer and bind it before the client can use it: this filter holds back the answer
// (a JSON body whole, an SSE stream one event at a time) just long enough to look, awaits `onTask`, and passes
// the original bytes on. Answers larger than `maxBytes` are not task handles: the filter stops looking.
import { Transform, type TransformCallback } from 'node:stream';
import { eventEnd, parseEvent } from './sse-events.ts';

export interface CreatedTask {
  taskId: string;
}

const TASK_MARKER = Buffer.from('"resultType"');
export const DEFAULT_TASK_WATCH_BYTES = 64 * 1024;

/** The CreateTaskResult a JSON-RPC response carries, if it is one. Cheap byte test first, parse only then. */
export function findCreatedTask(text: Buffer): CreatedTask | undefined {
  if (text.indexOf(TASK_MARKER) < 0) return undefined;
  let msg: unknown;
  try {
    msg = JSON.parse(text.toString('utf8'));
  } catch {
    return undefined;
  }
  const result = (msg as { result?: unknown } | null)?.result as Record<string, unknown> | undefined;
  if (typeof result !== 'object' || result === null || result.resultType !== 'task') return undefined;
  const { taskId } = result;
  if (typeof taskId !== 'string' || taskId.length === 0) return undefined;
  return { taskId };
}

export class TaskWatch extends Transform {
  readonly #sse: boolean;
  readonly #maxBytes: number;
  readonly #onTask: (task: CreatedTask) => Promise<void>;
  #held: Buffer = Buffer.alloc(0);
  #watching = true;

  constructor(sse: boolean, onTask: (task: CreatedTask) => Promise<void>, maxBytes = DEFAULT_TASK_WATCH_BYTES) {
    super();
    this.#sse = sse;
    this.#onTask = onTask;
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (!this.#watching) return done(null, chunk);
    this.#held = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    if (!this.#sse) {
      if (this.#held.length > this.#maxBytes) this.#giveUp();
      return done();
    }
    void this.#scanEvents().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    if (!this.#watching || this.#held.length === 0) return done();
    const body = this.#held;
    this.#held = Buffer.alloc(0);
    const task = this.#sse ? undefined : findCreatedTask(body);
    void (task ? this.#onTask(task) : Promise.resolve()).then(
      () => done(null, body),
      () => done(null, body),
    );
  }

  async #scanEvents(): Promise<void> {
    for (;;) {
      const end = eventEnd(this.#held);
      if (end < 0) {
        if (this.#held.length > this.#maxBytes) this.#giveUp();
        return;
      }
      const block = this.#held.subarray(0, end);
      this.#held = this.#held.subarray(end);
      if (block.indexOf(TASK_MARKER) >= 0) {
        const task = findCreatedTask(Buffer.from(parseEvent(block.toString('utf8')).data));
        if (task) {
          await this.#onTask(task).catch(() => undefined);
          this.push(block);
          this.#giveUp(); // one answer per request: nothing more to look for
          return;
        }
      }
      this.push(block);
    }
  }

  #giveUp(): void {
    this.#watching = false;
    if (this.#held.length > 0) this.push(this.#held);
    this.#held = Buffer.alloc(0);
  }
}
