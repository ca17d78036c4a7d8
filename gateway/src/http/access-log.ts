// The one line per request (http/exchange.ts), written by hand in pino's format. pino's generic path (a
// field loop, a string escaper, bindings, hooks) was about 3% of the gateway's CPU per request in the bench
// profile (issue 17); this line has fixed fields, so it is serialized directly. Same output as
// `logger.child({ instance }).info(fields, 'request')`: level, time, pid, instance, the fields (undefined
// ones left out), msg; only the shortened ids' ellipsis is escaped (see shortIdJson). Values are the
// gateway's own (never headers, tokens or payloads).
// Lines are handed to the destination in batches (up to BATCH_LINES, or after FLUSH_MS): one call and one
// string per batch instead of per line (the destination, log-writer.ts in the gateway, encodes each once).
import { pino, type DestinationStream } from 'pino';
import { isoTimeCached } from '../logger.ts';
import { shortIdPrefix } from '../routing/session-directory.ts';
import { RecentValues } from './recent-values.ts';
import { accountPending } from './response-accounting.ts';

export interface AccessLine {
  reqId: string;
  http: string;
  method: string | undefined;
  status: number;
  ms: number;
  rpc?: string | undefined;
  tool?: string | undefined;
  /** The whole id: the line shows it shortened (routing/session-directory.ts shortId). */
  sessionId?: string | undefined;
  taskId?: string | undefined;
  backend?: string | undefined;
  route?: string | undefined;
  error?: string | undefined;
  outcome?: string | undefined;
  auth?: string | undefined;
}

/**
 * shortId() as a JSON string, its ellipsis written `\u2026` (RFC 8259 §7): the same value once parsed, and the
 * line stays ASCII. V8 stores a string with no character above U+00FF one byte per character; one "…" makes
 * the line, and the batch it is joined into, two bytes per character, costlier to join and to encode as UTF-8
 * for stdout (issue 17; ~0.8 µs per line in a microbenchmark of build, join and encode).
 */
function shortIdJson(id: string): string {
  return `${JSON.stringify(shortIdPrefix(id)).slice(0, -1)}\\u2026"`;
}

/** `v` as a JSON string literal. */
const quote = (v: string): string => JSON.stringify(v);

const INFO = pino.levels.values.info as number;
/**
 * Lines per batch (about 64 KiB). To a file, each batch is one write (a thread-pool round trip); a pipe is
 * written at most PIPE_BUF at a time whatever the batch (log-writer.ts). 256 instead of 64: a quarter of the
 * writes to a file; in a paired A/B (three processes of each build) every 256-line process served 4-6% more
 * requests per CPU-second than its 64-line neighbour (issue 17, README "Figures"). FLUSH_MS still bounds how
 * long a line waits.
 */
const BATCH_LINES = 256;
const FLUSH_MS = 50;

export class AccessLog {
  /** Whether the configured --log-level lets info lines through. */
  readonly enabled: boolean;
  readonly #dest: DestinationStream;
  /** `,"pid":N,"instance":"…"`: the bindings every line repeats. */
  readonly #bindings: string;
  readonly #pending: string[] = [];
  /**
   * The JSON literals of the fields whose values repeat from line to line: JSON.stringify is a call into the
   * runtime each time, about 480 instructions (issue 17, callgrind), a remembered value a comparison.
   */
  readonly #methodJson = new RecentValues(quote);
  readonly #toolJson = new RecentValues(quote);
  readonly #backendJson = new RecentValues(quote);
  #timer: NodeJS.Timeout | undefined;
  readonly #onExit = (): void => {
    accountPending(); // responses that ended in this last turn write their lines first
    this.flush();
    try {
      (this.#dest as { flushSync?: () => void }).flushSync?.();
    } catch {
      // stdout already gone: nothing to flush into
    }
  };

  /** `destination`: where the other log lines go (shared, so that lines never interleave); stdout when absent. */
  constructor(level: string, instance: string, destination?: DestinationStream) {
    this.enabled = (pino.levels.values[level] ?? Number.POSITIVE_INFINITY) <= INFO;
    this.#dest = destination ?? pino.destination(1);
    this.#bindings = `,"pid":${process.pid},"instance":${JSON.stringify(instance)}`;
    if (this.enabled) process.once('exit', this.#onExit);
  }

  /** Hands the pending lines to the destination. */
  readonly flush = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const batch = this.#pending.join('');
    this.#pending.length = 0;
    this.#dest.write(batch);
  };

  /** Flushes and stops (gateway shutdown). */
  close(): void {
    accountPending();
    this.flush();
    process.off('exit', this.#onExit);
  }

  write(l: AccessLine): void {
    if (!this.enabled) return;
    // Quoted as they are: the request id (X-Request-Id is only taken when it is [A-Za-z0-9._:-]), the HTTP
    // method (an HTTP token), and the gateway's own words (route, error code, outcome). Escaped: the auth reason,
    // and what a client or an operator chose (JSON-RPC method, tool, session and task ids, backend id).
    let s = `{"level":"info"${isoTimeCached()}${this.#bindings},"reqId":"${l.reqId}","http":"${l.http}"`;
    if (l.method !== undefined) s += `,"method":${this.#methodJson.get(l.method)}`;
    s += `,"status":${l.status},"ms":${l.ms}`;
    if (l.rpc !== undefined) s += `,"rpc":"${l.rpc}"`;
    if (l.tool !== undefined) s += `,"tool":${this.#toolJson.get(l.tool)}`;
    if (l.sessionId !== undefined) s += `,"session":${shortIdJson(l.sessionId)}`;
    if (l.taskId !== undefined) s += `,"task":${shortIdJson(l.taskId)}`;
    if (l.backend !== undefined) s += `,"backend":${this.#backendJson.get(l.backend)}`;
    if (l.route !== undefined) s += `,"route":"${l.route}"`;
    if (l.error !== undefined) s += `,"error":"${l.error}"`;
    if (l.outcome !== undefined) s += `,"outcome":"${l.outcome}"`;
    if (l.auth !== undefined) s += `,"auth":${JSON.stringify(l.auth)}`;
    this.#pending.push(`${s},"msg":"request"}\n`);
    if (this.#pending.length >= BATCH_LINES) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.flush, FLUSH_MS);
      this.#timer.unref();
    }
  }
}
