// Polling for a state that other processes reach in their own time (discovery, health checks, a cluster's
// controllers). Waits are generous: the machine is shared, and how long it takes is never what a test asserts.
export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns a value other than undefined/false, and returns that value. On timeout it
 * throws, naming `what` and the last value or error seen, so a failure says what state was reached instead.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, o: EventuallyOptions = {}): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`gave up waiting for ${what}; last seen: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 200));
  }
}
