// Content negotiation rules of the Streamable HTTP transport, checked at the edge so that a bad request
// never costs a backend round trip.
//  - POST: "The client MUST include an Accept header, listing both application/json and text/event-stream."
//  - GET:  "The client MUST include an Accept header, listing text/event-stream."
//  - POST bodies are JSON-RPC, so Content-Type must be application/json.
import { RecentValues } from '../http/recent-values.ts';

function parseMediaTypes(header: string): readonly string[] {
  return header.split(',').map((part) => (part.split(';')[0] ?? '').trim().toLowerCase());
}

/** Parsed lists of the Accept / Content-Type values seen lately (http/recent-values.ts). */
const parsed = new RecentValues(parseMediaTypes);
const NONE: readonly string[] = [];

function mediaTypes(header: string | undefined): readonly string[] {
  return header ? parsed.get(header) : NONE;
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
