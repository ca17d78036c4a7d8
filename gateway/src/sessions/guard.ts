// Every call into the session store goes through here: bounded by the store timeout (a slow or blackholed
// Redis must not hold requests), timed into a histogram, failures counted. It also remembers whether the
// store has answered since start (readiness) and whether it is failing now (the `degraded` state).
import { GatewayError } from '../errors.ts';
import type { StoreOperation } from '../metrics/labels.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';

export class StoreGuard {
  readonly #metrics: GatewayMetrics;
  readonly #timeoutMs: number;
  /** The store answered at least once since start. */
  answeredOnce = false;
  /** Time of the last failure, 0 when the last operation succeeded. */
  failingSince = 0;
  /** The last failure (status page): what failed, and when (epoch ms). Kept after the store recovers. */
  lastError: { operation: string; message: string; at: number } | undefined;
  /** Called when an operation timed out (the store may need a fresh connection). */
  onTimeout: (() => void) | undefined;

  constructor(metrics: GatewayMetrics, timeoutMs: number) {
    this.#metrics = metrics;
    this.#timeoutMs = timeoutMs;
  }

  get degraded(): boolean {
    return this.failingSince !== 0;
  }

  /**
   * Runs one store operation within the store timeout per round trip it needs (`roundTrips`, 1 for all
   * that a request waits on; background work in steps of a few round trips says so).
   */
  async run<T>(operation: StoreOperation, fn: () => Promise<T>, roundTrips = 1): Promise<T> {
    const end = this.#metrics.storeDuration.startTimer({ operation });
    const budgetMs = this.#timeoutMs * roundTrips;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new GatewayError('STORE_UNAVAILABLE', `${operation} took longer than ${budgetMs} ms`));
        this.onTimeout?.();
      }, budgetMs);
    });
    try {
      const value = await Promise.race([fn(), timeout]);
      this.answeredOnce = true;
      this.failingSince = 0;
      return value;
    } catch (err) {
      // A refusal by policy (e.g. the in-memory store is full) is an answer, not an outage.
      if (err instanceof GatewayError && err.code !== 'STORE_UNAVAILABLE') throw err;
      this.#metrics.storeErrors.inc({ operation });
      if (this.failingSince === 0) this.failingSince = Date.now();
      this.lastError = { operation, message: String((err as Error)?.message ?? err).slice(0, 200), at: Date.now() };
      throw err instanceof GatewayError ? err : new GatewayError('STORE_UNAVAILABLE', undefined, { cause: err });
    } finally {
      clearTimeout(timer);
      end();
    }
  }
}
