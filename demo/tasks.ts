// The MCP Tasks extension (io.modelcontextprotocol/tasks, SEP-2663) for a v2 McpServer, held in this process.
// The official SDK does not implement it yet. A task lives in the memory of the replica that created it, which
// is exactly why a gateway must pin `tasks/*` requests (Mcp-Name: <taskId>, SEP-2663 "Streamable HTTP: Routing
// Headers") to that replica.
//  - A tool creates a task by returning `createTaskResult(...)`: a flat `Result & Task` with resultType "task".
//  - tasks/get returns the task with its result or error inlined once terminal; tasks/update delivers
//    inputResponses for a task parked in input_required; tasks/cancel acknowledges and aborts.
//  - Requests that did not declare the extension in their `_meta` client capabilities are refused (-32021).
import { randomUUID } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type CallToolResult,
  type InputRequest,
  type McpServer,
  type ServerContext,
} from '@modelcontextprotocol/server';
import * as z from 'zod/v4';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

type Status = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';
const TERMINAL: ReadonlySet<Status> = new Set(['completed', 'failed', 'cancelled']);

/** What a task's job can do while it runs. */
export interface TaskIo {
  /** Parks the task in input_required until tasks/update answers `key`; resolves with the answer. */
  ask(key: string, request: InputRequest): Promise<unknown>;
  readonly signal: AbortSignal;
}
export type TaskJob = (io: TaskIo) => Promise<CallToolResult>;

interface Entry {
  taskId: string;
  status: Status;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number;
  pollIntervalMs: number;
  result?: CallToolResult;
  error?: { code: number; message: string };
  pending: Map<string, { request: InputRequest; answer: (value: unknown) => void }>;
  abort: AbortController;
}

export interface TaskRegistryOptions {
  ttlMs?: number;
  pollIntervalMs?: number;
  /** Most tasks kept at once; past it new ones are refused (a demo must stay bounded). */
  maxTasks?: number;
}

export class TaskRegistry {
  readonly #tasks = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #pollMs: number;
  readonly #max: number;

  constructor(o: TaskRegistryOptions = {}) {
    this.#ttlMs = o.ttlMs ?? 10 * 60_000;
    this.#pollMs = o.pollIntervalMs ?? 200;
    this.#max = o.maxTasks ?? 10_000;
  }

  /** Starts `job` as a task and returns the CreateTaskResult for the creating request. */
  create(job: TaskJob): Record<string, unknown> {
    if (this.#tasks.size >= this.#max) throw new ProtocolError(ProtocolErrorCode.InternalError, 'too many tasks');
    const now = new Date().toISOString();
    const e: Entry = {
      taskId: randomUUID(),
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      ttlMs: this.#ttlMs,
      pollIntervalMs: this.#pollMs,
      pending: new Map(),
      abort: new AbortController(),
    };
    // Created before the answer goes out: a tasks/get for this id resolves from now on (SEP-2663 "Task Creation").
    this.#tasks.set(e.taskId, e);
    setTimeout(() => this.#tasks.delete(e.taskId), e.ttlMs).unref();
    const io: TaskIo = {
      signal: e.abort.signal,
      ask: (key, request) =>
        new Promise((answer) => {
          e.pending.set(key, { request, answer });
          this.#set(e, 'input_required');
        }),
    };
    void job(io).then(
      (result) => this.#finish(e, { result }),
      (err: unknown) => this.#finish(e, { error: { code: err instanceof ProtocolError ? err.code : ProtocolErrorCode.InternalError, message: (err as Error).message } }),
    );
    return { resultType: 'task', ...this.#base(e) };
  }

  /** The task as tasks/get shows it (DetailedTask); undefined when unknown or expired. */
  get(taskId: string): Record<string, unknown> | undefined {
    const e = this.#tasks.get(taskId);
    if (!e) return undefined;
    const out: Record<string, unknown> = this.#base(e);
    if (e.status === 'input_required') out.inputRequests = Object.fromEntries([...e.pending].map(([k, p]) => [k, p.request]));
    if (e.status === 'completed') out.result = e.result;
    if (e.status === 'failed') out.error = e.error;
    return out;
  }

  /** Delivers answers; unknown or already answered keys are ignored (SEP-2663 tasks/update). */
  update(taskId: string, responses: Record<string, unknown>): boolean {
    const e = this.#tasks.get(taskId);
    if (!e) return false;
    for (const [key, value] of Object.entries(responses)) {
      const p = e.pending.get(key);
      if (!p) continue;
      e.pending.delete(key);
      p.answer(value);
    }
    if (e.status === 'input_required' && e.pending.size === 0) this.#set(e, 'working');
    return true;
  }

  cancel(taskId: string): boolean {
    const e = this.#tasks.get(taskId);
    if (!e) return false;
    if (!TERMINAL.has(e.status)) {
      e.abort.abort();
      e.pending.clear();
      this.#set(e, 'cancelled');
    }
    return true;
  }

  #base(e: Entry): Record<string, unknown> {
    const out: Record<string, unknown> = {
      taskId: e.taskId,
      status: e.status,
      createdAt: e.createdAt,
      lastUpdatedAt: e.lastUpdatedAt,
      ttlMs: e.ttlMs,
      pollIntervalMs: e.pollIntervalMs,
    };
    if (e.statusMessage !== undefined) out.statusMessage = e.statusMessage;
    return out;
  }

  #finish(e: Entry, outcome: { result?: CallToolResult; error?: { code: number; message: string } }): void {
    if (TERMINAL.has(e.status)) return; // cancelled meanwhile: the outcome is dropped
    if (outcome.error) {
      e.error = outcome.error;
      this.#set(e, 'failed');
    } else {
      e.result = outcome.result;
      this.#set(e, 'completed');
    }
  }

  #set(e: Entry, status: Status): void {
    e.status = status;
    e.lastUpdatedAt = new Date().toISOString();
  }
}

/** The request declared the tasks extension in its per-request client capabilities (2026-07-28 `_meta`). */
export function declaresTasks(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, { extensions?: Record<string, unknown> } | undefined> | undefined;
  const caps = envelope?.[CLIENT_CAPABILITIES_META_KEY];
  return caps?.extensions?.[TASKS_EXTENSION] !== undefined;
}

function requireTasks(ctx: ServerContext): void {
  if (!declaresTasks(ctx)) throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
}

const TaskIdParams = z.looseObject({ taskId: z.string() });
const UpdateParams = z.looseObject({ taskId: z.string(), inputResponses: z.record(z.string(), z.unknown()).default({}) });
const AnyResult = z.looseObject({});

/** Advertises the extension (server/discover) and serves tasks/get, tasks/update and tasks/cancel. */
export function registerTaskMethods(server: McpServer, registry: TaskRegistry): void {
  server.server.registerCapabilities({ extensions: { [TASKS_EXTENSION]: {} } });
  const unknown = (id: string) => new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown task: ${id.slice(0, 64)}`);
  server.server.setRequestHandler('tasks/get', { params: TaskIdParams, result: AnyResult }, async ({ taskId }, ctx) => {
    requireTasks(ctx as ServerContext);
    const task = registry.get(taskId);
    if (!task) throw unknown(taskId);
    return task;
  });
  server.server.setRequestHandler('tasks/update', { params: UpdateParams, result: AnyResult }, async ({ taskId, inputResponses }, ctx) => {
    requireTasks(ctx as ServerContext);
    // On a 2026-07-28 request the SDK lifts `inputResponses` out of the params into the request context.
    const answers = (ctx as ServerContext).mcpReq.inputResponses ?? inputResponses;
    if (!registry.update(taskId, answers)) throw unknown(taskId);
    return {};
  });
  server.server.setRequestHandler('tasks/cancel', { params: TaskIdParams, result: AnyResult }, async ({ taskId }, ctx) => {
    requireTasks(ctx as ServerContext);
    if (!registry.cancel(taskId)) throw unknown(taskId);
    return {};
  });
}
