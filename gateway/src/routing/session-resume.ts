// --session-resume reinitialize (issue 16): a session whose backend is proven lost goes on, under the
// client's unchanged Mcp-Session-Id, in a new upstream session on a live backend:
//  1. one replica claims the resume (an atomic claim in the store: SET NX in Redis), so that two gateways
//     resuming the same session at once open exactly one new upstream session; the others wait for the
//     winner's binding and use it;
//  2. the winner sends the client's recorded `initialize` to a live backend (MCP "Lifecycle",
//     initialization), then `notifications/initialized`, then replays the state-setting requests the old
//     backend had accepted (logging/setLevel, resources/subscribe);
//  3. it rebinds the client's id to the new backend and upstream session id (the gateway maps one to the
//     other on every later request, session-resume-headers.ts) and drops the claim.
// What cannot be carried: anything the old server kept in memory for the session beyond those requests.
import type { Backend } from '../backends/backend.ts';
import type { ResumeOutcome } from '../metrics/labels.ts';
import { H, isValidSessionId } from '../mcp/headers.ts';
import { discardBody } from '../proxy/discard.ts';
import type { SessionRecord } from '../sessions/store.ts';
import type { Placement } from './placement.ts';
import { jsonRpcMessages } from '../mcp/body-messages.ts';
import { shortId, type SessionDirectory } from './session-directory.ts';

export interface ResumerOptions {
  /** Longest a resume may take (claim lifetime, and each backend round trip's bound). */
  timeoutMs: number;
  /** How often a replica that lost the claim looks for the winner's binding. */
  pollMs?: number;
}

export interface ResumeContext {
  /** The caller's forwarded identity headers (auth on): the new upstream session is created by the same caller. */
  identityHeaders: Record<string, string>;
  log: { warn(details: Record<string, unknown>, message: string): void };
}

/**
 * Thrown when a session cannot be resumed. `final`: it never will be (unbound meanwhile, no backend takes
 * it), and the caller answers as it would without resume (404). Otherwise (the store did not answer, another
 * replica is still at it) the binding stays and the caller answers 503 + Retry-After: the next request tries again.
 */
export class ResumeFailed extends Error {
  readonly final: boolean;
  constructor(message: string, final: boolean) {
    super(message);
    this.final = final;
  }
}

/** Largest initialize answer read (to learn the negotiated protocol version). */
const MAX_INIT_ANSWER = 256 * 1024;

export class SessionResumer {
  readonly #directory: SessionDirectory;
  readonly #placement: Placement;
  readonly #o: Required<ResumerOptions>;
  readonly #count: (outcome: ResumeOutcome) => void;
  /** Resumes under way in this process, by session id: concurrent requests of one session share one. */
  readonly #running = new Map<string, Promise<SessionRecord>>();

  constructor(directory: SessionDirectory, placement: Placement, options: ResumerOptions, count: (outcome: ResumeOutcome) => void) {
    this.#directory = directory;
    this.#placement = placement;
    this.#o = { pollMs: 100, ...options };
    this.#count = count;
  }

  /** Whether a binding carries what a resume needs (it was made with resume on). */
  canResume(record: SessionRecord): boolean {
    return record.kind === 'streamable' && record.init !== undefined;
  }

  /** Counts what became of the request that found its session lost (replayed, not_replayed). */
  note(outcome: ResumeOutcome): void {
    this.#count(outcome);
  }

  /** The session's binding on a live backend: resumed here, or by another replica that claimed it first. */
  resume(id: string, lost: SessionRecord, ctx: ResumeContext): Promise<SessionRecord> {
    const running = this.#running.get(id);
    if (running) return running;
    const attempt = this.#resume(id, lost, ctx).finally(() => this.#running.delete(id));
    this.#running.set(id, attempt);
    return attempt;
  }

  async #resume(id: string, lost: SessionRecord, ctx: ResumeContext): Promise<SessionRecord> {
    if (await this.#claim(id)) return this.#resumeClaimed(id, lost, ctx);
    // Another replica holds the claim: its new binding appears in the store within the claim's lifetime.
    const deadline = Date.now() + this.#o.timeoutMs + 1000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, this.#o.pollMs));
      const current = await this.#directory.reread(id).catch(() => lost);
      if (!current) throw new ResumeFailed('the session was unbound meanwhile', true);
      if (!sameUpstream(current, lost)) return current;
      // The winner gave up (its claim is gone and nothing moved): take over rather than wait it out.
      if (await this.#claim(id)) return this.#resumeClaimed(id, lost, ctx);
    }
    this.#count('failed');
    throw new ResumeFailed('another replica did not finish resuming the session', false);
  }

  /** Takes the claim; a store that does not answer is reported as a failure to try again, not a verdict. */
  async #claim(id: string): Promise<boolean> {
    try {
      return await this.#directory.claimResume(id, this.#o.timeoutMs);
    } catch (err) {
      this.#count('failed');
      throw new ResumeFailed(`the session store did not answer: ${(err as Error).message}`, false);
    }
  }

  async #resumeClaimed(id: string, seen: SessionRecord, ctx: ResumeContext): Promise<SessionRecord> {
    let released = false;
    try {
      // The claim is ours; the binding may have moved since it was read (another replica resumed it and
      // dropped its claim just before ours): then it is used as it is.
      const lost = await this.#directory.reread(id);
      if (!lost) throw new ResumeFailed('the session was unbound meanwhile', true);
      if (!sameUpstream(lost, seen)) return lost;
      const opened = await this.#openElsewhere(lost, ctx);
      const { backend, upstreamId } = opened;
      const next: SessionRecord = { ...lost, backend: backend.id, createdAt: Date.now(), resumes: (lost.resumes ?? 0) + 1 };
      if (backend.instance !== undefined) next.instance = backend.instance;
      else delete next.instance;
      if (upstreamId !== id) next.upstreamId = upstreamId;
      else delete next.upstreamId;
      const bound = await this.#directory.replace(id, next, lost.backend).catch(() => false);
      if (bound) opened.hold.commit();
      opened.hold.done();
      if (!bound) {
        void this.#release(backend, upstreamId);
        throw new ResumeFailed('the session was unbound meanwhile', true);
      }
      released = true;
      this.#placement.noteUnbound(lost.backend);
      this.#count('resumed');
      ctx.log.warn(
        { session: shortId(id), from: lost.backend, to: backend.id, resumes: next.resumes, replayed: opened.replayed },
        'session resumed on another backend',
      );
      return next;
    } catch (err) {
      if (!(err instanceof ResumeFailed)) ctx.log.warn({ session: shortId(id), err: (err as Error).message }, 'session resume failed');
      this.#count('failed');
      // Store trouble (or anything unexpected) is not a verdict on the session: it may be resumed next time.
      throw err instanceof ResumeFailed ? err : new ResumeFailed((err as Error).message, false);
    } finally {
      if (!released) await this.#directory.releaseClaim(id);
    }
  }

  async #openElsewhere(lost: SessionRecord, ctx: ResumeContext) {
    const hold = this.#placement.hold();
    const exclude = new Set([lost.backend]);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const backend = hold.pick(exclude);
        if (!backend) break;
        try {
          const { upstreamId, replayed } = await this.#open(backend, lost, ctx);
          return { backend, upstreamId, replayed, hold };
        } catch (err) {
          ctx.log.warn({ backend: backend.id, err: (err as Error).message }, 'session resume: backend refused the new session, trying another');
          exclude.add(backend.id);
        }
      }
    } catch (err) {
      hold.done();
      throw err;
    }
    hold.done();
    throw new ResumeFailed('no live backend accepted the resumed session', true);
  }

  /** Opens the upstream session on `backend`: initialize, initialized, then the recorded state requests. */
  async #open(backend: Backend, lost: SessionRecord, ctx: ResumeContext): Promise<{ upstreamId: string; replayed: number }> {
    const base = { ...ctx.identityHeaders, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await this.#post(backend, base, { jsonrpc: '2.0', id: 'mcp-gateway-resume', method: 'initialize', params: JSON.parse(lost.init as string) });
    const raw = init.headers[H.SESSION_ID];
    const upstreamId = Array.isArray(raw) ? raw[0] : raw;
    if (init.status !== 200 || upstreamId === undefined || !isValidSessionId(upstreamId)) throw new Error(`initialize answered ${init.status}`);
    const result = [...jsonRpcMessages(init.text)].find((m) => (m as { id?: unknown } | undefined)?.id === 'mcp-gateway-resume') as
      | { result?: { protocolVersion?: unknown } }
      | undefined;
    if (!result?.result) {
      void this.#release(backend, upstreamId);
      throw new Error('initialize failed');
    }
    const version = typeof result.result.protocolVersion === 'string' ? result.result.protocolVersion : lost.protocolVersion;
    const session = { ...base, [H.SESSION_ID]: upstreamId, ...(version ? { [H.PROTOCOL_VERSION]: version } : {}) };
    await this.#post(backend, session, { jsonrpc: '2.0', method: 'notifications/initialized' });
    let replayed = 0;
    for (const [i, entry] of (lost.replay ?? []).entries()) {
      // Each was accepted by the old backend; one the new backend refuses is logged and skipped.
      const answer = await this.#post(backend, session, { jsonrpc: '2.0', id: `mcp-gateway-resume-${i}`, method: entry.method, params: JSON.parse(entry.params) });
      if (answer.status === 200 && !answer.text.includes('"error"')) replayed++;
      else ctx.log.warn({ backend: backend.id, method: entry.method, status: answer.status }, 'session resume: a recorded request was refused');
    }
    return { upstreamId, replayed };
  }

  async #post(backend: Backend, headers: Record<string, string>, message: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    const res = await backend.pool.request({
      method: 'POST',
      path: backend.path,
      headers,
      body: JSON.stringify(message),
      headersTimeout: this.#o.timeoutMs,
      signal: AbortSignal.timeout(this.#o.timeoutMs),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    // The SDK servers end the SSE answer to one request after its response event; bounded all the same.
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_INIT_ANSWER) {
        discardBody(res.body);
        break;
      }
      chunks.push(chunk);
    }
    return { status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
  }

  /** Ends an upstream session the client will never use (best effort). */
  async #release(backend: Backend, upstreamId: string): Promise<void> {
    try {
      const res = await backend.pool.request({ method: 'DELETE', path: backend.path, headers: { [H.SESSION_ID]: upstreamId }, headersTimeout: this.#o.timeoutMs });
      discardBody(res.body);
    } catch {
      // The backend's own session timeout ends it otherwise.
    }
  }
}

/** Two bindings name the same upstream session. */
function sameUpstream(a: SessionRecord, b: SessionRecord): boolean {
  return a.backend === b.backend && a.upstreamId === b.upstreamId && a.instance === b.instance && a.createdAt === b.createdAt;
}
