// Process lifecycle shared by the listeners: readiness, the shutting-down flag, requests in flight and the
// open SSE streams (which a graceful shutdown ends so that clients reconnect, and resume, elsewhere).
export type Phase = 'starting' | 'ready' | 'draining' | 'stopping' | 'stopped';

/**
 * `listen`: a stream that only waits for server messages (GET, subscriptions/listen): ended first on
 * shutdown, clients reconnect elsewhere. `response`: the answer to a request still being worked on: left to
 * finish until the shutdown timeout.
 */
export type StreamKind = 'listen' | 'response';

export class Lifecycle {
  phase: Phase = 'starting';
  #inFlight = 0;
  readonly #streams = new Map<() => void, StreamKind>();
  #idleWaiters: Array<() => void> = [];

  get ready(): boolean {
    return this.phase === 'ready';
  }

  /** New requests are refused once stopping. */
  get stopping(): boolean {
    return this.phase === 'stopping' || this.phase === 'stopped';
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  /** Counts a request until the returned function is called (idempotent). */
  enter(): () => void {
    this.#inFlight++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#inFlight--;
      if (this.#inFlight === 0) for (const w of this.#idleWaiters.splice(0)) w();
    };
  }

  /** Registers an open stream's closer; returns the unregister function. */
  addStream(close: () => void, kind: StreamKind): () => void {
    this.#streams.set(close, kind);
    return () => this.#streams.delete(close);
  }

  /** Ends the open streams of a kind (or all); returns how many. */
  closeStreams(kind?: StreamKind): number {
    const chosen = [...this.#streams].filter(([, k]) => kind === undefined || k === kind).map(([close]) => close);
    for (const close of chosen) {
      this.#streams.delete(close);
      close();
    }
    return chosen.length;
  }

  /** Resolves when no request is in flight, or after `timeoutMs`; true when idle. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
