// Throws away a response body we will not relay. A stream: undici and our own bodies report a destroyed
// stream with an 'error' event, which would crash the process without a listener; this is expected, so it is
// swallowed. An upstream body (proxy/upstream-body.ts): its backend request is aborted.
import type { Readable } from 'node:stream';
import { UpstreamBody } from './upstream-body.ts';

const ignore = () => undefined;

export function discardBody(body: Readable | UpstreamBody): void {
  if (body instanceof UpstreamBody) return body.discard();
  body.on('error', ignore);
  body.destroy();
}
