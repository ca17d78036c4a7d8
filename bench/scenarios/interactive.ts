// interactive: tool calls that make the server ask the client (demo backend: ask_model -> sampling,
// ask_user -> elicitation). The client reads the SSE answer and replies to each server request with a NEW
// POST sent through the next entry point: the round trip only works when that POST reaches the replica that
// asked. One latency sample per whole tool call (request, server request, answer, result).
import { entryFor, openMany, type BenchSession } from '../lib/driver.ts';
import { interactiveCall } from '../lib/mcp-wire.ts';
import { errorKind } from '../lib/stats.ts';
import type { Scenario } from './scenario.ts';

export const interactive: Scenario<BenchSession[]> = {
  name: 'interactive',
  describe: 'tools/call that trigger sampling and elicitation round trips; each answer is a new POST through the next entry point',
  needs: { backend: 'demo' },
  setup: (ctx) => openMany(ctx, ctx.sessions, 32),
  async run(ctx, sessions) {
    let roundTrips = 0;
    let calls = 0;
    await Promise.all(
      sessions.map(async (s, i) => {
        let turn = i;
        // A call and its answer are two requests.
        while (ctx.budget.take() && ctx.budget.take()) {
          const [tool, args] = turn++ % 2 === 0 ? ['ask_model', { prompt: 'benchmark?' }] : ['ask_user', { question: 'benchmark?' }];
          const entry = entryFor(ctx, s);
          const r = await interactiveCall(entry, () => entryFor(ctx, s), s.sid, tool as string, args, ctx.budget.signal);
          if (r.networkError !== undefined && ctx.budget.signal.aborted) break;
          roundTrips += r.answered;
          if (r.answerFailures > 0) ctx.rec.error('answer-not-accepted');
          if (r.status === 200 && r.networkError === undefined && r.answered === 1 && r.replica !== undefined) {
            ctx.rec.ok(r.ms);
            ctx.rec.served(s.sid, r.replica);
            calls++;
          } else if (r.answerFailures === 0) {
            ctx.rec.error(r.status === 200 && r.networkError === undefined ? 'no-round-trip' : errorKind(r.status, r.networkError));
          }
        }
      }),
    );
    return { toolCalls: calls, roundTrips };
  },
};
