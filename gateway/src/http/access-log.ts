// The one line per request (http/exchange.ts), written by hand in pino's format. pino's generic path (a
// field loop, a string escaper, bindings, hooks) was about 3% of the gateway's CPU per request in the bench
// profile (issue 17); this line has fixed fields, so it is serialized directly. Same output as
// `logger.child({ instance }).info(fields, 'request')`: level, time, pid, instance, the fields (undefined
// ones left out), msg. Values are the gateway's own (never headers, tokens or payloads).
import { pino, type DestinationStream } from 'pino';
import { isoTimeCached } from '../logger.ts';

export interface AccessLine {
  reqId: string;
  http: string;
  method: string | undefined;
  status: number;
  ms: number;
  rpc?: string | undefined;
  tool?: string | undefined;
  session?: string | undefined;
  task?: string | undefined;
  backend?: string | undefined;
  route?: string | undefined;
  error?: string | undefined;
  outcome?: string | undefined;
  auth?: string | undefined;
}

const INFO = pino.levels.values.info as number;

export class AccessLog {
  /** Whether the configured --log-level lets info lines through. */
  readonly enabled: boolean;
  readonly #dest: DestinationStream;
  /** `,"pid":N,"instance":"…"`: the bindings every line repeats. */
  readonly #bindings: string;

  /** `destination`: where the other log lines go (shared, so that lines never interleave); stdout when absent. */
  constructor(level: string, instance: string, destination?: DestinationStream) {
    this.enabled = (pino.levels.values[level] ?? Number.POSITIVE_INFINITY) <= INFO;
    this.#dest = destination ?? pino.destination(1);
    this.#bindings = `,"pid":${process.pid},"instance":${JSON.stringify(instance)}`;
  }

  write(l: AccessLine): void {
    if (!this.enabled) return;
    let s = `{"level":"info"${isoTimeCached()}${this.#bindings},"reqId":${str(l.reqId)},"http":${str(l.http)}`;
    if (l.method !== undefined) s += `,"method":${str(l.method)}`;
    s += `,"status":${l.status},"ms":${l.ms}`;
    if (l.rpc !== undefined) s += `,"rpc":${str(l.rpc)}`;
    if (l.tool !== undefined) s += `,"tool":${str(l.tool)}`;
    if (l.session !== undefined) s += `,"session":${str(l.session)}`;
    if (l.task !== undefined) s += `,"task":${str(l.task)}`;
    if (l.backend !== undefined) s += `,"backend":${str(l.backend)}`;
    if (l.route !== undefined) s += `,"route":${str(l.route)}`;
    if (l.error !== undefined) s += `,"error":${str(l.error)}`;
    if (l.outcome !== undefined) s += `,"outcome":${str(l.outcome)}`;
    if (l.auth !== undefined) s += `,"auth":${str(l.auth)}`;
    this.#dest.write(`${s},"msg":"request"}\n`);
  }
}

/** A JSON string; the plain ASCII of ids and method names needs no escaping, anything else gets it. */
function str(v: string): string {
  return PLAIN.test(v) ? `"${v}"` : JSON.stringify(v);
}
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
