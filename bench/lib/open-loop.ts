// Latency at a fixed request rate (open loop): requests leave on a schedule (start + i / rate) whether or not
// earlier ones have returned, and each latency is measured from its SCHEDULED time, so a stalled target
// cannot hide its stalls by slowing the generator down (coordinated omission). wrk2 would do this but is not
// in Debian; at half of the gateway's max throughput a Node generator keeps up easily (it reports how far
// behind schedule it ever fell, so that can be checked).
import type { Entry} from './mcp-wire.ts';
import { send, toolCallBody } from './mcp-wire.ts';
import { summarize, type LatencySummary } from './stats.ts';

export interface OpenLoopResult {
  rate: number;
  seconds: number;
  sent: number;
  ok: number;
  errors: number;
  latencyMs: LatencySummary;
  /** Largest lag of a send behind its scheduled time (generator health), ms. */
  maxSendLagMs: number;
  /** Requests not sent because too many were outstanding (the target could not keep up). */
  shed: number;
}

export async function openLoop(entry: Entry, sessions: string[], rate: number, seconds: number, maxOutstanding = 2000): Promise<OpenLoopResult> {
  const body = toolCallBody('echo');
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  let ok = 0;
  let errors = 0;
  let sent = 0;
  let shed = 0;
  let outstanding = 0;
  let maxLag = 0;
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  const fire = (i: number, scheduled: number) => {
    outstanding++;
    const sid = sessions[i % sessions.length] as string;
    const p = send(entry, 'POST', body, { sid, timeoutMs: 10_000 }).then((r) => {
      outstanding--;
      if (r.status === 200) latencies[ok++] = performance.now() - scheduled;
      else errors++;
    });
    inFlight.push(p);
  };
  while (sent + shed < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) / 1000) * rate) + 1);
    while (sent + shed < due) {
      const i = sent + shed;
      const scheduled = start + (i * 1000) / rate;
      maxLag = Math.max(maxLag, now - scheduled);
      if (outstanding >= maxOutstanding) shed++;
      else {
        fire(i, scheduled);
        sent++;
      }
    }
    // Sleep until the next request is due (setTimeout's ~1 ms resolution shows up as send lag, not latency).
    const next = start + ((sent + shed) * 1000) / rate;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now() - 0.2)));
  }
  await Promise.all(inFlight);
  return {
    rate,
    seconds,
    sent,
    ok,
    errors,
    latencyMs: summarize(latencies.slice(0, ok).sort()),
    maxSendLagMs: Math.round(maxLag * 100) / 100,
    shed,
  };
}
