// A progress bar on stderr while a run goes: how much of the budget (time or requests, whichever is further
// along) is spent, throughput, and errors. On a terminal it redraws one line; otherwise (CI, files) it
// prints a line every few seconds.
import type { Budget } from './driver.ts';
import type { Recorder } from './stats.ts';

export function startProgress(label: string, budget: Budget, rec: Recorder, quiet: boolean): () => void {
  if (quiet) return () => undefined;
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  let lastCount = 0;
  let lastAt = started;
  let lastPrint = 0;
  const draw = (final: boolean) => {
    const now = Date.now();
    const byTime = (now - started) / budget.durationMs;
    const byCount = budget.used / budget.maxRequests;
    const done = Math.min(1, final ? 1 : Math.max(byTime, byCount));
    const rate = ((rec.count - lastCount) * 1000) / Math.max(1, now - lastAt);
    lastCount = rec.count;
    lastAt = now;
    const width = 28;
    const bar = '#'.repeat(Math.round(done * width)).padEnd(width, '-');
    const errors = rec.unexpectedErrors;
    const line = `${label} [${bar}] ${(done * 100).toFixed(0).padStart(3)}% ${((now - started) / 1000).toFixed(1)}s ${rec.count} ok ${Math.round(rate)}/s errors ${errors}`;
    if (tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else if (final || now - lastPrint >= 5000) {
      process.stderr.write(`${line}\n`);
      lastPrint = now;
    }
  };
  const timer = setInterval(() => draw(false), 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    draw(true);
  };
}
