// The health verdicts (README "Reliability"): what each signal about a backend proves. Two verdicts that
// must never be confused, after Envoy's outlier detection and HAProxy's `observe`:
//  - suspicion (a probe timed out or answered 5xx, a connection was refused, timed out or reset, the
//    backend stalled) ejects it: no new sessions or sessionless requests for an ejection time that doubles
//    with each ejection that follows a short spell in rotation; its sessions stay bound;
//  - proof (nothing listened at its address on every probe for the refused grace, or it stayed ejected past
//    the upper bound; discovery's removals are proof too, in registry.ts) loses it: its sessions are unbound.
// Failures that are the gateway's own (its ports, file descriptors, resolver) prove nothing either way.
// Pure policy over the registry's state; the clock is passed in so that it can be tested without waiting.
import type { Backend, EjectionCause } from './backend.ts';
import type { BackendRegistry } from './registry.ts';
import type { UpstreamFailureKind } from '../proxy/upstream-error.ts';

export interface VerdictOptions {
  /** Refused on every probe for this long proves nothing listens any more (0: the first refused probe). */
  refusedGraceMs: number;
  /** Ejected for longer than this, the backend is given up and its sessions unbound. */
  lostAfterMs: number;
  /** The first ejection lasts this long; each following one twice as long, up to `ejectionMaxMs`. */
  ejectionBaseMs: number;
  ejectionMaxMs: number;
}

/** What one exchange with a backend (a probe, or the proxy's own request) said about it. */
export type Observation =
  | { kind: 'answered' }
  | { kind: 'failed'; cause: EjectionCause; detail: string }
  /** The gateway's own failure: says nothing about the backend. */
  | { kind: 'local'; detail: string };

export class Verdicts {
  readonly #registry: BackendRegistry;
  readonly #o: VerdictOptions;

  constructor(registry: BackendRegistry, options: VerdictOptions) {
    this.#registry = registry;
    this.#o = options;
  }

  /** Applies an observation of `backend` made at `now`. */
  observe(backend: Backend, seen: Observation, now = Date.now()): void {
    if (seen.kind === 'local') return;
    if (seen.kind === 'answered') {
      backend.refusedSince = 0;
      // An ejected backend serves its ejection time first (a flapping one stays out longer each time).
      if (backend.state === 'ejected' && now < backend.ejectedUntil) return;
      if (backend.state !== 'serving') this.#registry.restore(backend, now);
      return;
    }
    if (seen.cause === 'connect-refused') {
      if (backend.refusedSince === 0) backend.refusedSince = now;
    } else backend.refusedSince = 0;
    if (backend.state === 'serving') this.#eject(backend, seen.cause, seen.detail, now);
    this.check(backend, now);
  }

  /** The verdicts time alone hands down: refused past the grace, ejected past the upper bound. */
  check(backend: Backend, now = Date.now()): void {
    if (backend.state !== 'ejected') return;
    if (backend.refusedSince > 0 && now - backend.refusedSince >= this.#o.refusedGraceMs) this.#registry.lose(backend, 'refused', now);
    else if (now - backend.stateSince >= this.#o.lostAfterMs) this.#registry.lose(backend, 'ejected-too-long', now);
  }

  #eject(backend: Backend, cause: EjectionCause, detail: string, now: number): void {
    // In rotation for a while since the last ejection: the backoff starts over (Envoy decays it likewise).
    if (now - backend.stateSince >= this.#o.ejectionMaxMs) backend.ejections = 0;
    const ms = Math.min(this.#o.ejectionBaseMs * 2 ** Math.min(backend.ejections, 20), this.#o.ejectionMaxMs);
    if (this.#registry.eject(backend, cause, detail, now + ms, now)) backend.ejections++;
  }
}

/** The ejection cause of a failed exchange; undefined for failures that are not the backend's. */
export function causeOf(kind: UpstreamFailureKind, code: string): EjectionCause | undefined {
  switch (kind) {
    case 'connect':
      if (code === 'ECONNREFUSED') return 'connect-refused';
      if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect-timeout';
      if (code === 'ENOTFOUND') return 'dns';
      return 'unreachable';
    case 'timeout':
      return 'probe-timeout';
    case 'reset':
      return 'reset';
    case 'local':
    case 'aborted':
    case 'closed':
      return undefined;
    default:
      return 'probe-error';
  }
}
