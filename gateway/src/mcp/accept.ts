// Content negotiation rules of the Streamable HTTP transport, checked at the edge so that a bad request
// never costs a backend round trip.
//  - POST: "The client MUST include an Accept header, listing both application/json and text/event-stream."
//  - GET:  "The client MUST include an Accept header, listing text/event-stream."
//  - POST bodies are JSON-RPC, so Content-Type must be application/json.

function parseMediaTypes(header: string): readonly string[] {
  return header.split(',').map((part) => (part.split(';')[0] ?? '').trim().toLowerCase());
}

/**
 * A client sends the same Accept and Content-Type on every request: their parsed lists are kept for the
 * last few distinct values (bounded, so odd values cannot grow it), which takes the split off the hot path.
 */
const parsed = new Map<string, readonly string[]>();
const PARSED_MAX = 64;
const NONE: readonly string[] = [];

function mediaTypes(header: string | undefined): readonly string[] {
  if (!header) return NONE;
  let types = parsed.get(header);
  if (types === undefined) {
    types = parseMediaTypes(header);
    if (parsed.size >= PARSED_MAX) parsed.clear();
    if (header.length <= 256) parsed.set(header, types);
  }
  return types;
}

export function acceptsPostResponse(accept: string | undefined): boolean {
  const types = mediaTypes(accept);
  // A wildcard is passed on: the backend decides, as it would without the gateway.
  if (types.includes('*/*')) return true;
  return types.includes('application/json') && types.includes('text/event-stream');
}

export function acceptsEventStream(accept: string | undefined): boolean {
  const types = mediaTypes(accept);
  return types.includes('text/event-stream') || types.includes('*/*') || types.includes('text/*');
}

export function isJsonContentType(contentType: string | undefined): boolean {
  return mediaTypes(contentType)[0] === 'application/json';
}
