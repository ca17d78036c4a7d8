// The 2024-11-05 HTTP+SSE transport: "the server MUST send an `endpoint` event containing a URI for the client
// to use for sending messages" as the first event of the stream (2024-11-05 basic/transports, HTTP with SSE).
// The gateway must learn the session id in that URI before the client can use it, and the URI must lead back
// to the gateway. This filter holds the stream until the first event is complete, hands its URI to
// `onEndpoint` (which binds the session and returns the URI to advertise), writes the event with that URI,
// and from then on passes every byte through untouched.
import { Transform, type TransformCallback } from 'node:stream';
import { eventEnd, parseEvent } from './sse-events.ts';

/** The first event may not be larger than this; a server that sends more is not speaking this transport. */
export const MAX_ENDPOINT_EVENT_BYTES = 8192;

export class EndpointEventError extends Error {
  readonly code = 'GW_LEGACY_ENDPOINT';
}

export class LegacyEndpointFilter extends Transform {
  #held: Buffer = Buffer.alloc(0);
  #done = false;
  readonly #onEndpoint: (uri: string) => Promise<string>;

  constructor(onEndpoint: (uri: string) => Promise<string>) {
    super();
    this.#onEndpoint = onEndpoint;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.#done) return done(null, chunk);
    this.#held = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    void this.#scan().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    if (!this.#done && this.#held.length > 0) return done(new EndpointEventError('the stream ended before its endpoint event'));
    done();
  }

  async #scan(): Promise<void> {
    for (;;) {
      const end = eventEnd(this.#held);
      if (end < 0) {
        if (this.#held.length > MAX_ENDPOINT_EVENT_BYTES) throw new EndpointEventError('no endpoint event within the first 8 KiB');
        return;
      }
      const block = this.#held.subarray(0, end);
      this.#held = this.#held.subarray(end);
      const event = parseEvent(block.toString('utf8'));
      if (event.empty) {
        this.push(block); // comments before the endpoint event pass as they are
        continue;
      }
      if (event.type !== 'endpoint') throw new EndpointEventError(`the first event is '${event.type.slice(0, 32)}', not 'endpoint'`);
      const advertised = await this.#onEndpoint(event.data);
      this.push(advertised === event.data ? block : Buffer.from(`event: endpoint\ndata: ${advertised}\n\n`));
      this.#done = true;
      if (this.#held.length > 0) this.push(this.#held);
      this.#held = Buffer.alloc(0);
      return;
    }
  }
}

/**
 * Reads the session id from an advertised endpoint URI (absolute, or relative to the stream's URL), and the
 * URI the gateway advertises instead: its own messages path with the same query, relative, so that it
 * resolves against whichever gateway URL the client used to open the stream.
 */
export function rewriteEndpoint(uri: string, messagesPath: string): { sessionId: string | undefined; advertised: string; path: string } {
  let url: URL;
  try {
    url = new URL(uri, 'http://backend.invalid/');
  } catch {
    return { sessionId: undefined, advertised: uri, path: '' };
  }
  return { sessionId: url.searchParams.get('sessionId') ?? undefined, advertised: `${messagesPath}${url.search}`, path: url.pathname };
}
