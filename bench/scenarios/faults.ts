// faults: steady load while a backend replica (at 30% of the run) and a gateway replica (at 55%) are killed
// with SIGKILL. What must hold:
//  - errors stay within the affected sessions: the killed backend's sessions (they answer 404 or lose a
//    request in flight, then re-initialize elsewhere) and requests that were in flight at, or sent to, the
//    killed gateway (the client then uses the other entry points, as a load balancer would);
//  - no other session sees any error, and no session changes replica (stickiness);
//  - time to recovery: from each kill to the affected sessions' next success.
import { checkWire, entryFor, openMany, openSession, type BenchSession, type RunContext } from '../lib/driver.ts';
import { send, toolCallBody } from '../lib/mcp-wire.ts';
import { errorKind, quantile } from '../lib/stats.ts';
import type { Scenario } from './scenario.ts';
import { toolFor } from './steady.ts';

interface Kill {
  name: string;
  at: number;
}

interface FaultState {
  sessions: BenchSession[];
  /** Replica of each session at setup. */
  home: Map<string, string>;
}

async function learnHomes(ctx: RunContext, sessions: BenchSession[]): Promise<Map<string, string>> {
  const home = new Map<string, string>();
  for (const s of sessions) {
    const entry = entryFor(ctx, s);
    const r = await send(entry, 'POST', toolCallBody(toolFor(ctx)), { sid: s.sid, signal: ctx.budget.signal });
    if (r.status === 200 && r.replica) home.set(s.sid, r.replica);
  }
  return home;
}

export const faults: Scenario<FaultState> = {
  name: 'faults',
  describe: 'steady load; one backend replica killed at 30% of the run and one gateway replica at 55%; errors must stay within the affected sessions',
  needs: { backends: 2 },
  async setup(ctx) {
    const sessions = await openMany(ctx, ctx.sessions, 64);
    return { sessions, home: await learnHomes(ctx, sessions) };
  },
  async run(ctx, state) {
    const third = ctx.budget.durationMs * 0.3;
    let backendKill: Kill | undefined;
    let gatewayKill: Kill | undefined;
    const timers = [
      // The victim is noted before the signal goes out, so every failure it causes is attributed to it.
      setTimeout(() => {
        const name = ctx.killBackend();
        backendKill = { name, at: performance.now() };
      }, third),
      setTimeout(() => {
        const name = ctx.killGateway();
        if (name !== undefined) gatewayKill = { name, at: performance.now() };
      }, ctx.budget.durationMs * 0.55),
    ];
    const affected = new Set<string>();
    const erroredOutside = new Set<string>();
    const backendRecovery: number[] = [];
    const gatewayRecovery: number[] = [];
    const body = toolCallBody(toolFor(ctx));

    await Promise.all(
      state.sessions.map(async (start) => {
        let s: BenchSession | undefined = start;
        let replica = state.home.get(start.sid);
        let waitingSince: { kind: 'backend' | 'gateway'; at: number } | undefined;
        while (s && ctx.budget.take()) {
          const entry = entryFor(ctx, s);
          const r = await send(entry, 'POST', body, { sid: s.sid, signal: ctx.budget.signal });
          if (r.status === 200) {
            checkWire(ctx, r, 200, entry, true);
            ctx.rec.served(s.sid, r.replica);
            replica ??= r.replica;
            if (waitingSince) (waitingSince.kind === 'backend' ? backendRecovery : gatewayRecovery).push(performance.now() - waitingSince.at);
            waitingSince = undefined;
            continue;
          }
          if (r.networkError !== undefined && ctx.budget.signal.aborted) break;
          const byBackend = backendKill !== undefined && replica === backendKill.name;
          const byGateway = gatewayKill !== undefined && entry.name === gatewayKill.name && r.networkError !== undefined;
          if (byBackend || byGateway) {
            affected.add(start.sid);
            ctx.rec.error(`${byGateway ? 'gateway-killed' : 'backend-killed'} ${errorKind(r.status, r.networkError)}`, true);
            const kill = byGateway ? gatewayKill : backendKill;
            waitingSince ??= { kind: byGateway ? 'gateway' : 'backend', at: (kill as Kill).at };
            if (r.networkError === 'ECONNREFUSED' || r.networkError === 'ECONNRESET' || r.networkError === 'UND_ERR_SOCKET') entry.dead = true;
          } else {
            erroredOutside.add(start.sid);
            ctx.rec.error(errorKind(r.status, r.networkError));
          }
          if (r.status === 404) {
            // The session went with its replica: a new one, on a live backend.
            s = await openSession(ctx, true);
            replica = undefined;
          }
        }
      }),
    );
    for (const t of timers) clearTimeout(t);
    const summary = (xs: number[]) => {
      const sorted = Float64Array.from(xs).sort();
      return { sessions: xs.length, p50Ms: Math.round(quantile(sorted, 0.5)), maxMs: Math.round(sorted.length ? (sorted[sorted.length - 1] as number) : 0) };
    };
    return {
      killedBackend: backendKill?.name ?? null,
      killedGateway: gatewayKill?.name ?? null,
      sessionsOnKilledBackend: [...state.home.values()].filter((r) => r === backendKill?.name).length,
      affectedSessions: affected.size,
      sessionsWithErrorsOutsideAffected: erroredOutside.size,
      backendRecovery: summary(backendRecovery),
      gatewayRecovery: summary(gatewayRecovery),
    };
  },
};
