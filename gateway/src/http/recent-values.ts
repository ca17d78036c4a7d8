// What a function gave for the header values seen lately. A client sends the same Accept, Content-Type and
// Host on every request, and parsing them each time showed in the hot path's profile (issue 17). Bounded: at
// most `max` entries (emptied when full) and only values up to 256 characters, so odd values cannot grow it.
export class RecentValues<T> {
  readonly #seen = new Map<string, T>();
  readonly #compute: (value: string) => T;
  readonly #max: number;

  constructor(compute: (value: string) => T, max = 64) {
    this.#compute = compute;
    this.#max = max;
  }

  get(value: string): T {
    let result = this.#seen.get(value);
    if (result === undefined) {
      result = this.#compute(value);
      if (this.#seen.size >= this.#max) this.#seen.clear();
      if (value.length <= 256) this.#seen.set(value, result);
    }
    return result;
  }
}
