// "The client went away" for one request, as cheap as a flag. An AbortController per request (and undici's
// abort-signal listener on it) was a measurable part of the hot path (issue 17); most requests finish and
// never need either. A real AbortSignal is made only when something waits on one (sendPinned waiting for
// a verdict).

export class ClientAbort {
  #aborted = false;
  #listeners: (() => void)[] | undefined;
  #controller: AbortController | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** An AbortSignal that fires with this (made on first use). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** Calls `fn` once when the client goes away (at once if it has); returns the remover. */
  onAbort(fn: () => void): () => void {
    if (this.#aborted) {
      fn();
      return noop;
    }
    (this.#listeners ??= []).push(fn);
    return () => {
      const l = this.#listeners;
      const i = l ? l.indexOf(fn) : -1;
      if (i >= 0) l?.splice(i, 1);
    };
  }

  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const fn of listeners) fn();
    this.#controller?.abort();
  }
}

const noop = (): void => undefined;
