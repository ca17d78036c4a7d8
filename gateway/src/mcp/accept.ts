// Content negotiation rules of the Streamable HTTP transport, checked at the edge so that a bad request
// never costs a backend round trip.
//  - POST: "The client MUST include an Accept header, listing both application/json and text/event-stream."
//  - GET:  "The client MUST include an Accept header, listing text/event-stream."
//  - POST bodies are JSON-RPC, so Content-Type must be application/json.
import { RecentValues } from '../http/recent-values.ts';

function parseMediaTypes(header: string): readonly string[] {
  return header.split(',').map((part) => (part.split(';')[0] ?? '').trim().toLowerCase());
}

/**
 * The verdicts for the Accept / Content-Type values seen lately (http/recent-values.ts): a client sends the
 * same values on every request, so each is parsed and judged once, not on each request.
 */
const postVerdicts = new RecentValues((accept) => {
  const types = parseMediaTypes(accept);
  // A wildcard is passed on: the backend decides, as it would without the gateway.
  if (types.includes('*/*')) return true;
  return types.includes('application/json') && types.includes('text/event-stream');
});
const streamVerdicts = new RecentValues((accept) => {
  const types = parseMediaTypes(accept);
  return types.includes('text/event-stream') || types.includes('*/*') || types.includes('text/*');
});
const jsonVerdicts = new RecentValues((contentType) => parseMediaTypes(contentType)[0] === 'application/json');

export function acceptsPostResponse(accept: string | undefined): boolean {
  return accept ? postVerdicts.get(accept) : false;
}

export function acceptsEventStream(accept: string | undefined): boolean {
  return accept ? streamVerdicts.get(accept) : false;
}

export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType ? jsonVerdicts.get(contentType) : false;
}
