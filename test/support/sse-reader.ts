// Reads an SSE response event by event, as tests need to see it: ids, data, comments, and where it ended.
export interface ReadEvent {
  id: string | undefined;
  event: string;
  data: string;
  retry: number | undefined;
}

export class SseReader {
  readonly events: ReadEvent[] = [];
  /** Comment lines seen (keep-alives). */
  comments = 0;
  ended = false;
  failed: unknown;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  /** A read still under way when a wait gave up: the next wait takes it over, so that no chunk is lost. */
  #pending: Promise<{ done: boolean; value?: Uint8Array } | { err: unknown }> | undefined;

  constructor(res: Response) {
    if (!res.body) throw new Error('no body to read');
    this.#reader = res.body.getReader();
  }

  /** Reads until `pred` holds, the stream ends, or `timeoutMs` passes (then throws, showing what came). */
  async until(pred: (r: SseReader) => boolean, timeoutMs = 10_000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (this.ended) return this;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream did not deliver in time; events: ${JSON.stringify(this.events).slice(0, 2000)}`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), left)));
      this.#pending ??= this.#reader.read().catch((err: unknown) => ({ err }));
      const next = await Promise.race([this.#pending, timeout]);
      clearTimeout(timer);
      if (next === 'timeout') continue;
      this.#pending = undefined;
      if ('err' in next) {
        this.failed = next.err;
        this.ended = true;
        return this;
      }
      if (next.done) {
        this.ended = true;
        return this;
      }
      this.#feed(this.#decoder.decode(next.value, { stream: true }));
    }
    return this;
  }

  /** The JSON-RPC messages among the events (type `message`, with data). */
  messages(): Array<Record<string, unknown>> {
    return this.events.filter((e) => e.event === 'message' && e.data !== '').map((e) => JSON.parse(e.data) as Record<string, unknown>);
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
  }

  #feed(text: string): void {
    this.#buffer += text;
    for (;;) {
      const m = /\r\n\r\n|\n\n|\r\r/.exec(this.#buffer);
      if (!m) return;
      const block = this.#buffer.slice(0, m.index);
      this.#buffer = this.#buffer.slice(m.index + m[0].length);
      const e: ReadEvent = { id: undefined, event: 'message', data: '', retry: undefined };
      const data: string[] = [];
      let fields = 0;
      for (const line of block.split(/\r\n|\r|\n/)) {
        if (line.startsWith(':')) {
          this.comments++;
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        fields++;
        if (field === 'id') e.id = value;
        else if (field === 'event') e.event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'retry') e.retry = Number(value);
      }
      e.data = data.join('\n');
      if (fields > 0) this.events.push(e);
    }
  }
}
