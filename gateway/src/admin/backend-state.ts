// A backend's state as the status page names it. The verdict itself belongs to backends/ (the registry and
// the health checker); this file only reads it and adds what discovery says (draining, not ready).
import type { Backend } from '../backends/backend.ts';

/** The registry's verdict: in rotation, out of rotation (suspicion), or its sessions lost (proof). */
export type Verdict = 'serving' | 'ejected' | 'lost';
/** What the page shows: the verdict, with discovery's draining / not-ready over a serving backend. */
export type DisplayState = Verdict | 'draining' | 'not-ready';

export interface BackendStateView {
  state: DisplayState;
  /** Why it is in that state ('' while serving). */
  cause: string;
  /** Since when (epoch ms); null when this replica does not know (serving since before it looked). */
  since: number | null;
}

/** The registry's verdict, as backends/ keeps it on the Backend (README "Reliability"). */
export function verdictOf(b: Backend): { verdict: Verdict; cause: string; since: number | null } {
  return { verdict: b.state, cause: b.state === 'serving' ? '' : b.stateCause, since: b.stateSince };
}

export function backendStateView(b: Backend): BackendStateView {
  const v = verdictOf(b);
  if (v.verdict !== 'serving') return { state: v.verdict, cause: v.cause, since: v.since };
  if (b.draining) return { state: 'draining', cause: 'discovery: terminating', since: v.since };
  if (!b.ready) return { state: 'not-ready', cause: 'discovery: not ready', since: v.since };
  return { state: 'serving', cause: '', since: v.since };
}
