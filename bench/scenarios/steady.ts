// steady: K live sessions, each sending small tools/call requests back to back (closed loop), every request
// to the next entry point. What proxy overhead looks like on the hot path. A session that answers 404 (a
// proxy that lost it, or sent it to a replica that never knew it) is re-initialized, as a client would.
import { checkWire, entryFor, openMany, openSession, type BenchSession, type RunContext } from '../lib/driver.ts';
import { send, toolCallBody } from '../lib/mcp-wire.ts';
import type { Scenario } from './scenario.ts';

export function toolFor(ctx: RunContext): string {
  return ctx.backend === 'demo' ? 'whoami' : 'echo';
}

/** Calls until the budget is spent; returns how many sessions had to be re-initialized. */
export async function callLoop(ctx: RunContext, start: BenchSession): Promise<number> {
  let s: BenchSession | undefined = start;
  let reopened = 0;
  const body = toolCallBody(toolFor(ctx));
  while (s && ctx.budget.take()) {
    const entry = entryFor(ctx, s);
    const r = await send(entry, 'POST', body, { sid: s.sid, signal: ctx.budget.signal });
    if (checkWire(ctx, r, 200, entry, true)) {
      ctx.rec.served(s.sid, r.replica);
    } else if (r.status === 404) {
      reopened++;
      s = await openSession(ctx, true);
    }
  }
  return reopened;
}

export const steady: Scenario<BenchSession[]> = {
  name: 'steady',
  describe: 'small tools/call on K live sessions, closed loop, spread over the entry points',
  setup: (ctx) => openMany(ctx, ctx.sessions, 64),
  async run(ctx, sessions) {
    const reopened = await Promise.all(sessions.map((s) => callLoop(ctx, s)));
    return { sessionsReinitialized: reopened.reduce((a, b) => a + b, 0) };
  },
};
