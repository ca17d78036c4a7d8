// churn: sessions created and deleted continuously. Each worker: initialize, notifications/initialized,
// one tools/call, DELETE; every 10th deleted session is probed once more and must answer 404 (an ended
// session must not be routed anywhere). Sessions created per second is the figure of merit.
import { checkWire, closeSession, entryFor, openSession, type RunContext } from '../lib/driver.ts';
import { send, toolCallBody } from '../lib/mcp-wire.ts';
import type { Scenario } from './scenario.ts';
import { toolFor } from './steady.ts';

async function lifecycle(ctx: RunContext, probeDeleted: boolean): Promise<'ok' | 'stop' | 'failed'> {
  const s = await openSession(ctx, true);
  if (!s) return ctx.budget.over ? 'stop' : 'failed';
  if (!ctx.budget.take()) return 'stop';
  const entry = entryFor(ctx, s);
  const r = await send(entry, 'POST', toolCallBody(toolFor(ctx)), { sid: s.sid, signal: ctx.budget.signal });
  if (!checkWire(ctx, r, 200, entry, true)) return 'failed';
  ctx.rec.served(s.sid, r.replica);
  if (!(await closeSession(ctx, s, true))) return ctx.budget.over ? 'stop' : 'failed';
  if (probeDeleted && ctx.budget.take()) {
    const probeEntry = entryFor(ctx, s);
    const gone = await send(probeEntry, 'POST', toolCallBody(toolFor(ctx)), { sid: s.sid, signal: ctx.budget.signal });
    if (gone.networkError === undefined && gone.status !== 404) ctx.rec.error(`deleted-session-answered-${gone.status}`);
  }
  return 'ok';
}

export const churn: Scenario<null> = {
  name: 'churn',
  describe: 'sessions created and deleted continuously (initialize, initialized, tools/call, DELETE; deleted sessions must answer 404)',
  setup: async () => null,
  async run(ctx) {
    let lifecycles = 0;
    await Promise.all(
      Array.from({ length: ctx.sessions }, async (_, w) => {
        for (let i = w; !ctx.budget.over; i++) {
          const outcome = await lifecycle(ctx, i % 10 === 0);
          if (outcome === 'stop') break;
          if (outcome === 'ok') lifecycles++;
        }
      }),
    );
    return { lifecycles };
  },
};
