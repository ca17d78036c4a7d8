// Throws away a response body we will not relay. undici reports a destroyed body with an 'error' event
// (RequestAbortedError), which would crash the process without a listener; this is expected, so swallow it.
import type { Readable } from 'node:stream';

const ignore = () => undefined;

export function discardBody(body: Readable): void {
  body.on('error', ignore);
  body.destroy();
}
