// Exponential backoff with full jitter (the AWS architecture blog's "full jitter": a random wait between 0
// and the capped exponential), so that many gateway replicas that lost the API server at the same moment do
// not come back in lock step.
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(baseMs: number, maxMs: number, random: () => number = Math.random) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
    this.#random = random;
  }

  /** The wait before the next attempt; each call doubles the ceiling, up to the maximum. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    // Never below half the base: a retry loop must not spin.
    return Math.max(this.#baseMs / 2, Math.round(ceiling * this.#random()));
  }

  /** After a success: the next failure starts from the base again. */
  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
