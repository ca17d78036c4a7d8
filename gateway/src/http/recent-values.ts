// What a function gave for the header values seen lately. A client sends the same Accept, Content-Type and
// Host on every request, and parsing them each time showed in the hot path's profile (issue 17). Bounded: at
// most `max` entries (emptied when full) and only values up to 256 characters, so odd values cannot grow it.
// The last value is checked first, by equality: each request's header values are new strings, and a Map
// lookup with a new string makes V8 internalize it (hash it and search its string table), about 700
// instructions against a few dozen for the comparison (issue 17, callgrind; ~150 ns against ~30 ns in a
// microbenchmark).
export class RecentValues<T> {
  readonly #seen = new Map<string, T>();
  readonly #compute: (value: string) => T;
  readonly #max: number;
  #lastValue: string | undefined = undefined;
  #lastResult: T | undefined = undefined;

  constructor(compute: (value: string) => T, max = 64) {
    this.#compute = compute;
    this.#max = max;
  }

  get(value: string): T {
    if (value === this.#lastValue) return this.#lastResult as T;
    let result = this.#seen.get(value);
    if (result === undefined) {
      result = this.#compute(value);
      if (this.#seen.size >= this.#max) this.#seen.clear();
      if (value.length <= 256) this.#seen.set(value, result);
    }
    this.#lastValue = value;
    this.#lastResult = result;
    return result;
  }
}
