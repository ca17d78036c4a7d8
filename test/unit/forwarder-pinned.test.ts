// Forwarder's failure policy against real HTTP servers and a real closed port: a session's request to an
// ejected backend waits for the next verdict (restored: sent; lost: BackendUnreachable, the only 404 path;
// neither within --backend-wait: 503 BACKEND_EJECTED), and a refused connection ejects, never loses.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Backend } from '../../gateway/src/backends/backend.ts';
import { HealthChecker } from '../../gateway/src/backends/health.ts';
import { BackendRegistry } from '../../gateway/src/backends/registry.ts';
import { loadConfig } from '../../gateway/src/config/load.ts';
import { GatewayError } from '../../gateway/src/errors.ts';
import { BackendUnreachable, Forwarder } from '../../gateway/src/http/forwarder.ts';
import { Lifecycle } from '../../gateway/src/lifecycle.ts';
import { createMetrics } from '../../gateway/src/metrics/metrics.ts';
import { ToolNames } from '../../gateway/src/metrics/tool-names.ts';
import { ClientAbort } from '../../gateway/src/proxy/client-abort.ts';
import type { UpstreamRequest } from '../../gateway/src/proxy/send.ts';
import { freePort } from '../support/redis.ts';

let server: Server;
let okUrl: string;
before(async () => {
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  okUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const log = pino({ level: 'silent' });

async function setup(backendWait: string) {
  const refusedUrl = `http://127.0.0.1:${await freePort()}/mcp`;
  const loaded = loadConfig(['--backends', `${okUrl},${refusedUrl}`, '--backend-wait', backendWait], {});
  assert.equal(loaded.kind, 'run');
  const { config } = loaded as Extract<typeof loaded, { kind: 'run' }>;
  const registry = new BackendRegistry({ connectTimeoutMs: 1000, headersTimeoutMs: 1000 }, log);
  registry.update([
    { id: 'ok', url: new URL(okUrl), ready: true, draining: false },
    { id: 'refused', url: new URL(refusedUrl), ready: true, draining: false },
  ]);
  const health = new HealthChecker(registry, { intervalMs: 500, timeoutMs: 300, refusedGraceMs: 300 }, log);
  const metrics = createMetrics(new Registry(), { processMetrics: false });
  const forwarder = new Forwarder({ config, health, metrics, lifecycle: new Lifecycle(), toolNames: new ToolNames(10) });
  const ok = registry.get('ok') as Backend;
  const refused = registry.get('refused') as Backend;
  return { registry, health, forwarder, ok, refused };
}

const request = (): UpstreamRequest => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from('{}'), clientAbort: new ClientAbort() });

test('ejected, then restored within --backend-wait: the request waits and goes through', async () => {
  const { registry, forwarder, ok } = await setup('10s');
  try {
    registry.eject(ok, 'probe-timeout', 'test', Date.now());
    const sending = forwarder.sendPinned(ok, request());
    setTimeout(() => registry.restore(ok), 100);
    const sent = await sending;
    assert.equal(sent.upstream.statusCode, 200);
    await text(sent.upstream.body.readable());
  } finally {
    await registry.close();
  }
});

test('ejected past --backend-wait: 503 BACKEND_EJECTED with Retry-After, the backend still ejected (not lost)', async () => {
  const { registry, forwarder, ok } = await setup('200ms');
  try {
    registry.eject(ok, '5xx', 'test', Date.now() + 5_000);
    await assert.rejects(forwarder.sendPinned(ok, request()), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.deepEqual([err.code, err.status], ['BACKEND_EJECTED', 503]);
      assert.ok((err.retryAfter ?? 0) >= 1);
      return true;
    });
    assert.equal(ok.state, 'ejected');
  } finally {
    await registry.close();
  }
});

test('a refused connection ejects; proof (refused past the grace) turns the wait into BackendUnreachable', async () => {
  const { registry, health, forwarder, refused } = await setup('30s');
  health.start();
  try {
    await assert.rejects(forwarder.sendPinned(refused, request()), BackendUnreachable);
    assert.deepEqual([refused.state, refused.stateCause], ['lost', 'refused']);
  } finally {
    health.stop();
    await registry.close();
  }
});

test('without affinity a refused backend is ejected and another one answers', async () => {
  const { registry, forwarder, ok, refused } = await setup('1s');
  try {
    const order = [refused, ok];
    const sent = await forwarder.sendWithRetry((exclude) => order.find((b) => !exclude.has(b.id)), request());
    assert.equal(sent.backend, ok);
    await text(sent.upstream.body.readable());
    assert.deepEqual([refused.state, refused.stateCause], ['ejected', 'connect-refused'], 'suspicion only');
  } finally {
    await registry.close();
  }
});
