// streams: many idle GET streams held open (a listening MCP client each). Measures the proxy's resident
// memory before and with the streams open: RSS per open stream. Every stream needs a socket on the client,
// two in the proxy (client side and backend side) and one in a backend: with a hard limit of N open files
// per process, one proxy process holds at most about N/2 streams.
import { entryFor, openMany, type BenchSession } from '../lib/driver.ts';
import { openStream } from '../lib/mcp-wire.ts';
import { errorKind } from '../lib/stats.ts';
import type { Scenario } from './scenario.ts';

interface StreamsState {
  sessions: BenchSession[];
  closers: Array<() => void>;
}

export const streams: Scenario<StreamsState> = {
  name: 'streams',
  describe: 'many idle GET streams held open; proxy RSS per open stream',
  setup: async (ctx) => ({ sessions: await openMany(ctx, ctx.streams, 64), closers: [] }),
  async run(ctx, state) {
    const settle = () => new Promise((r) => setTimeout(r, 1000));
    await settle();
    const rssBefore = ctx.proxyRssKb();
    let next = 0;
    let open = 0;
    const opener = async () => {
      while (next < state.sessions.length && ctx.budget.take()) {
        const s = state.sessions[next++] as BenchSession;
        const entry = entryFor(ctx, s);
        const started = performance.now();
        const st = await openStream(entry, s.sid);
        if (st.status === 200) {
          ctx.rec.ok(performance.now() - started);
          ctx.rec.served(s.sid, st.replica);
          state.closers.push(st.close);
          open++;
        } else if (!(st.networkError !== undefined && ctx.budget.signal.aborted)) {
          ctx.rec.error(errorKind(st.status, st.networkError));
        }
      }
    };
    await Promise.all(Array.from({ length: 128 }, opener));
    // Hold them (bounded by the run's deadline), sampling the proxy's memory as it settles.
    const holdUntil = Date.now() + Math.min(ctx.holdMs, ctx.budget.msLeft);
    let rssPeak = ctx.proxyRssKb();
    while (Date.now() < holdUntil) {
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(1, holdUntil - Date.now()))));
      rssPeak = Math.max(rssPeak, ctx.proxyRssKb());
    }
    const rssOpen = ctx.proxyRssKb();
    const perStream = open > 0 ? (rssOpen - rssBefore) / open : 0;
    ctx.log(`streams: ${open} open; proxy RSS ${(rssBefore / 1024).toFixed(1)} MiB -> ${(rssOpen / 1024).toFixed(1)} MiB: ${perStream.toFixed(1)} KiB per stream`);
    return { streamsOpen: open, proxyRssKbBefore: rssBefore, proxyRssKbOpen: rssOpen, proxyRssKbPeak: rssPeak, rssKbPerStream: Math.round(perStream * 100) / 100 };
  },
  async teardown(_ctx, state) {
    for (const close of state.closers.splice(0)) close();
  },
};
