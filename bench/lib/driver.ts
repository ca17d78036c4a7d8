// Shared machinery of the scenarios: the budget that bounds a run (duration AND request count), the entry
// points and how a session spreads its requests over them, and session setup/teardown on the wire.
import type { BackendKind, Target } from './topology.ts';
import type { Entry} from './mcp-wire.ts';
import { initializeBody, initializedBody, send, type WireResult } from './mcp-wire.ts';
import { errorKind, type Recorder } from './stats.ts';

/** Bounds a run: it ends at the deadline, after `maxRequests` requests, or when stopped, whichever first. */
export class Budget {
  readonly maxRequests: number;
  readonly durationMs: number;
  readonly #deadline: number;
  readonly #ac = new AbortController();
  used = 0;

  constructor(maxRequests: number, durationMs: number) {
    this.maxRequests = maxRequests;
    this.durationMs = durationMs;
    this.#deadline = Date.now() + durationMs;
    // Requests still in flight at the deadline are cut, so the run always ends on time (plus a grace).
    setTimeout(() => this.#ac.abort(), durationMs + 5000).unref();
  }

  /** Takes one request from the budget; false once the run is over. */
  take(): boolean {
    if (this.#ac.signal.aborted || this.used >= this.maxRequests || Date.now() >= this.#deadline) return false;
    this.used++;
    return true;
  }

  get over(): boolean {
    return this.#ac.signal.aborted || this.used >= this.maxRequests || Date.now() >= this.#deadline;
  }

  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  get msLeft(): number {
    return Math.max(0, this.#deadline - Date.now());
  }

  stop(): void {
    this.#ac.abort();
  }
}

export interface RunContext {
  target: Target;
  backend: BackendKind;
  entries: Entry[];
  rec: Recorder;
  budget: Budget;
  /** Concurrent sessions (workers). */
  sessions: number;
  log: (line: string) => void;
  /** Sends SIGKILL to one backend replica and returns its name (faults scenario). */
  killBackend: () => string;
  /** Sends SIGKILL to one gateway replica and returns its entry name; undefined when none can be spared. */
  killGateway: () => string | undefined;
  /** Resident memory of the target's proxy processes, KiB. */
  proxyRssKb: () => number;
  /** Streams to hold open (streams scenario) and for how long. */
  streams: number;
  holdMs: number;
}

/** A session as the load generator holds it. */
export interface BenchSession {
  sid: string;
  /** Direct target: the backend that minted the session (there is no proxy to route it). */
  home: Entry | undefined;
  /** Rotation counter: each request of a session goes to the next entry point. */
  turn: number;
}

/** Entries still alive (a killed gateway replica is skipped once a connection to it failed). */
export function liveEntries(ctx: RunContext): Entry[] {
  const live = ctx.entries.filter((e) => !e.dead);
  return live.length > 0 ? live : ctx.entries;
}

/** The entry point for the next request of `s`: its home for direct, the next live entry otherwise. */
export function entryFor(ctx: RunContext, s: { home: Entry | undefined; turn: number }): Entry {
  if (s.home) return s.home;
  const live = liveEntries(ctx);
  s.turn++;
  return live[s.turn % live.length] as Entry;
}

let seed = 0;

/** initialize + notifications/initialized. Undefined (and errors recorded) when it failed. */
export async function openSession(ctx: RunContext, countInBudget: boolean, record = true): Promise<BenchSession | undefined> {
  const probe = { home: undefined, turn: seed++ };
  const entry = ctx.target === 'direct' ? (ctx.entries[seed % ctx.entries.length] as Entry) : entryFor(ctx, probe);
  if (countInBudget && !ctx.budget.take()) return undefined;
  const init = await send(entry, 'POST', initializeBody(), { signal: ctx.budget.signal });
  if (!checkWire(ctx, init, 200, entry, record) || init.sessionId === undefined) return undefined;
  const s: BenchSession = { sid: init.sessionId, home: ctx.target === 'direct' ? entry : undefined, turn: probe.turn };
  ctx.rec.sessionsCreated++;
  if (countInBudget && !ctx.budget.take()) return s;
  const ack = await send(entryFor(ctx, s), 'POST', initializedBody(), { sid: s.sid, signal: ctx.budget.signal });
  if (!checkWire(ctx, ack, 202, entry, record)) return undefined;
  ctx.rec.served(s.sid, init.replica);
  ctx.rec.served(s.sid, ack.replica);
  return s;
}

/** DELETE; true when the session ended. */
export async function closeSession(ctx: RunContext, s: BenchSession, countInBudget: boolean): Promise<boolean> {
  if (countInBudget && !ctx.budget.take()) return false;
  const entry = entryFor(ctx, s);
  const res = await send(entry, 'DELETE', undefined, { sid: s.sid, signal: ctx.budget.signal });
  ctx.rec.served(s.sid, res.replica);
  ctx.rec.forget(s.sid);
  if (!checkWire(ctx, res, 200, entry, true)) return false;
  ctx.rec.sessionsDeleted++;
  return true;
}

/**
 * Records a finished exchange: latency when the status is the expected one, an error by kind otherwise.
 * A connection that failed marks the entry dead (a killed replica). Requests cut by the end of the run are
 * not errors.
 */
export function checkWire(ctx: RunContext, r: WireResult, expected: number, entry: Entry, record: boolean, expectedError = false): boolean {
  if (r.status === expected) {
    if (record) ctx.rec.ok(r.ms);
    return true;
  }
  if (r.networkError !== undefined && ctx.budget.signal.aborted) return false;
  if (r.networkError === 'ECONNREFUSED' && ctx.entries.length > 1) entry.dead = true;
  ctx.rec.error(errorKind(r.status, r.networkError), expectedError);
  return false;
}

/** Opens `n` sessions with at most `concurrency` initializes in flight (setup: not part of the measurement). */
export async function openMany(ctx: RunContext, n: number, concurrency: number): Promise<BenchSession[]> {
  const out: BenchSession[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n && !ctx.budget.over) {
      next++;
      const s = await openSession(ctx, false, false);
      if (s) out.push(s);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}
