// The 2024-11-05 HTTP+SSE transport: "the server MUST send an `endpoint` event containing a URI for the client
// to use for sending messages" as the first event of the stream (2024-11-05 basic/transports, HTTP with SSE).
// The gateway must learn the session id in that URI before the client can use it, and the URI must lead back
// to the gateway. This filter holds the stream until the first event is complete, hands its URI to
// `onEndpoint` (which binds the session and returns the URI to advertise), writes the event with that URI,
// and from then on passes every byte through untouched.
import { Transform, type TransformCallback } from 'node:stream';
import { isValidSessionId } from './headers.ts';
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

// The endpoint URI is opaque (2024-11-05 says only that it is a URI): servers name the session however they
// like. The official SDKs: TypeScript `/messages?sessionId=<id>`, Python `/messages/?session_id=<id>`, Go
// `/sse?sessionid=<id>` (the stream's own path). Others put it in the path (`/messages/<id>`). The gateway
// never builds a URI of its own: it relays the backend's path and query unchanged (only the origin goes, so
// that the client comes back through the gateway), and forwards each POST to exactly that path and query.
// So it serves POSTs at every path a backend can advertise within its routes: --sse-path, --messages-path,
// and anything under --messages-path. One recogniser reads the session id from the URI, the same on the
// endpoint event and on each POST, so both name the session alike.

/** The gateway's legacy routes, as configured (exactly as written). */
export interface LegacyPaths {
  ssePath: string;
  messagesPath: string;
}

/** A query parameter that names the session: `sessionId`, `session_id`, `sessionid`, `session-id`, any case. */
export function isSessionParam(name: string): boolean {
  return name.replace(/[-_]/g, '').toLowerCase() === 'sessionid';
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The path serves legacy POSTs: the stream's path (Go's layout), the messages path, or one under it. */
export function isLegacyMessagePath(path: string, paths: LegacyPaths): boolean {
  const p = withoutTrailingSlash(path);
  const base = withoutTrailingSlash(paths.messagesPath);
  return p === withoutTrailingSlash(paths.ssePath) || p === base || path.startsWith(`${base === '/' ? '' : base}/`);
}

/**
 * The session id a legacy endpoint URI (path and query, as the backend advertised it or the client POSTs it)
 * names: the one query parameter that names a session, or else the last segment under the messages path.
 * Undefined when there is none, or more than one candidate (ambiguous).
 */
export function sessionIdOf(path: string, query: URLSearchParams, paths: LegacyPaths): string | undefined {
  const named = [...query.entries()].filter(([k]) => isSessionParam(k)).map(([, v]) => v);
  if (named.length > 0) return named.length === 1 && isValidSessionId(named[0] as string) ? named[0] : undefined;
  const base = withoutTrailingSlash(paths.messagesPath);
  const prefix = `${base === '/' ? '' : base}/`;
  if (!path.startsWith(prefix)) return undefined;
  const segment = withoutTrailingSlash(path.slice(prefix.length));
  return segment.length > 0 && !segment.includes('/') && isValidSessionId(segment) ? segment : undefined;
}

export type EndpointReading =
  | { ok: true; sessionId: string; advertised: string }
  | { ok: false; why: string };

/**
 * Reads the endpoint event's URI (absolute, or relative to the stream's URL): the session id it names, and
 * the URI to advertise to the client: the same path and query, relative to the origin, so that it resolves
 * against whichever gateway URL the client opened the stream on. Byte for byte the backend's when it was
 * origin-relative already.
 */
export function readEndpoint(uri: string, paths: LegacyPaths): EndpointReading {
  let url: URL;
  try {
    url = new URL(uri, `http://backend.invalid${paths.ssePath}`);
  } catch {
    return { ok: false, why: 'the endpoint event is not a URI' };
  }
  const relative = `${url.pathname}${url.search}`;
  if (!isLegacyMessagePath(url.pathname, paths)) {
    return { ok: false, why: `the backend advertises ${url.pathname.slice(0, 200)}, outside --sse-path and --messages-path (set --messages-path to it)` };
  }
  const sessionId = sessionIdOf(url.pathname, url.searchParams, paths);
  if (sessionId === undefined) return { ok: false, why: `the endpoint URI ${relative.slice(0, 200)} names no session id the gateway recognises` };
  return { ok: true, sessionId, advertised: uri.startsWith('/') && !uri.startsWith('//') ? uri : relative };
}
