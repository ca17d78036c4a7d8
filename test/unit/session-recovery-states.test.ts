// Session recovery (store lost its data) and the health verdicts do not fight: an ejected backend is not
// pinged (it would hold every round up to the timeout), and a round that found nobody while a backend that
// may hold the session is ejected is 'failed', not 'not_found': no negative cache, no proof of loss.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import type { Backend } from '../../gateway/src/backends/backend.ts';
import { BackendRegistry } from '../../gateway/src/backends/registry.ts';
import { SessionRecovery, type RecoveryResult } from '../../gateway/src/routing/session-recovery.ts';

const servers: Server[] = [];
const hits = { serving: 0, ejected: 0 };
async function serve(name: 'serving' | 'ejected'): Promise<string> {
  const s = createServer((_req, res) => {
    hits[name]++;
    res.writeHead(404, { 'content-type': 'application/json' }).end('{}'); // "I do not hold that session"
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/mcp`;
}
let urls: { serving: string; ejected: string };
before(async () => {
  urls = { serving: await serve('serving'), ejected: await serve('ejected') };
});
after(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

test('an ejected backend is not pinged; the round is failed (kept for a retry), and not_found once it is lost', async () => {
  const registry = new BackendRegistry({ connectTimeoutMs: 1000, headersTimeoutMs: 1000 }, pino({ level: 'silent' }));
  registry.update([
    { id: 'serving', url: new URL(urls.serving), ready: true, draining: false },
    { id: 'ejected', url: new URL(urls.ejected), ready: true, draining: false },
  ]);
  const results: RecoveryResult[] = [];
  const recovery = new SessionRecovery(registry, { timeoutMs: 2000, negativeTtlMs: 60_000, maxInFlight: 4 }, (r) => results.push(r));
  const ejected = registry.get('ejected') as Backend;
  registry.eject(ejected, 'probe-timeout', 'test', Date.now() + 60_000);
  const ctx = { protocolVersion: '2025-11-25', identityHeaders: {} };
  assert.equal(await recovery.find('sid-1', ctx), 'failed');
  assert.equal(await recovery.find('sid-1', ctx), 'failed', 'not remembered as a miss: asked again');
  assert.deepEqual(hits, { serving: 2, ejected: 0 });
  registry.lose(ejected, 'ejected-too-long');
  assert.equal(await recovery.find('sid-1', ctx), 'not_found', 'with the ejected backend proven lost, nobody holds it');
  assert.deepEqual(results, ['failed', 'failed', 'not_found']);
  await registry.close();
});
