// Static discovery: the backends named by --backends, identified by their URL, always ready.
import type { BackendSpec } from './backend.ts';

export function staticBackends(urls: readonly URL[]): BackendSpec[] {
  return urls.map((url) => ({ id: url.href, url, ready: true, draining: false }));
}
