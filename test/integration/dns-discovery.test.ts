// DNS discovery against a real DNS server on loopback (test/support/dns-server.ts, asked through node:dns
// like any resolver): A records on one port, SRV records with a port per target, and what the gateway does
// when the answer changes, fails, or says the name is gone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBackend, type BackendProcess } from '../support/backends.ts';
import { startDnsServer, type DnsServer } from '../support/dns-server.ts';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { connectClient } from '../support/mcp-client.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { post, rawCall, rawSession, rpc } from '../support/raw-mcp.ts';
import { freePort, startRedis, type RedisServer } from '../support/redis.ts';
import { eventually } from '../support/wait.ts';

interface BackendView {
  id: string;
  url: string;
  ready: boolean;
  draining: boolean;
  healthy: boolean;
}

async function backendUrls(gw: GatewayProcess): Promise<string[]> {
  return (await gw.admin<BackendView[]>('/backends')).map((b) => b.url).sort();
}

function sameSet(a: string[], b: string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
}

describe('dns discovery: A records of a headless Service name', () => {
  // Each backend on its own loopback address, all on one port: what a headless Service's A records describe.
  const addresses = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const name = 'mcp.test-ns.svc.cluster.local';
  let dns: DnsServer;
  let port: number;
  const backends: BackendProcess[] = [];
  let gw: GatewayProcess;
  const urlOf = (address: string) => `http://${address}:${port}/mcp`;

  before(async () => {
    dns = await startDnsServer();
    port = await freePort();
    for (const [i, address] of addresses.entries()) {
      backends.push(await startBackend(`pod-${i}`, 'demo/backend.ts', ['--host', address, '--port', String(port)]));
    }
    dns.records.set(name, { a: addresses.slice(0, 2) });
    gw = await startGateway({
      args: ['--discovery', 'dns', '--dns-name', `${name}:${port}`, '--dns-server', dns.address, '--dns-interval', '200ms'],
    });
  });
  after(async () => {
    await gw?.stop();
    await Promise.allSettled(backends.map((b) => b.stop()));
    await dns?.close();
  });

  test('the gateway routes sessions to the addresses the name resolves to', async () => {
    assert.deepEqual(await backendUrls(gw), [urlOf('127.0.0.2'), urlOf('127.0.0.3')]);
    const replicas = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const c = await connectClient([gw.mcpUrl]);
      replicas.add((await c.call<{ replica: string }>('whoami')).replica);
      await c.close();
    }
    assert.deepEqual([...replicas].sort(), ['pod-0', 'pod-1']);
  });

  test('a new address is picked up; a removed one loses its sessions (404), the others carry on', async () => {
    const clients = await Promise.all([0, 1, 2, 3].map(() => connectClient([gw.mcpUrl])));
    const home = await Promise.all(clients.map(async (c) => (await c.call<{ replica: string }>('whoami')).replica));
    dns.records.set(name, { a: ['127.0.0.3', '127.0.0.4'] });
    await eventually('the new record set', async () => sameSet(await backendUrls(gw), [urlOf('127.0.0.3'), urlOf('127.0.0.4')]));
    for (const [i, c] of clients.entries()) {
      if (home[i] === 'pod-0') {
        const res = await post(gw.mcpUrl, rpc('tools/list', {}, 9), { 'mcp-session-id': c.sessionId(), 'mcp-protocol-version': '2025-11-25' });
        assert.equal(res.status, 404, 'a session of the address that left the records is gone');
        assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32001);
      } else {
        assert.equal((await c.call<{ replica: string }>('whoami')).replica, home[i], 'other sessions stay where they were');
      }
    }
    assert.ok(home.includes('pod-0') && home.includes('pod-1'), `sessions were spread: ${home.join(',')}`);
    const fresh = await connectClient([gw.mcpUrl]);
    assert.notEqual((await fresh.call<{ replica: string }>('whoami')).replica, 'pod-0');
    await Promise.all([...clients, fresh].map((c) => c.close()));
  });

  test('a failing resolver keeps the last known backends; NXDOMAIN empties the set', async () => {
    const before = await backendUrls(gw);
    dns.failing = true;
    const seen = dns.queries.length;
    await eventually('discovery to report the failure', async () => {
      const r = await (await fetch(`${gw.adminUrl}/readyz`)).json();
      return (r as { discovery: { failing: boolean } }).discovery.failing && dns.queries.length > seen + 2;
    });
    assert.deepEqual(await backendUrls(gw), before, 'SERVFAIL changes nothing');
    const ready = await fetch(`${gw.adminUrl}/readyz`);
    assert.equal(ready.status, 200, 'and the gateway stays ready');
    await ready.body?.cancel();

    dns.failing = false;
    dns.records.delete(name);
    await eventually('an empty backend set', async () => (await backendUrls(gw)).length === 0);
    const notReady = await fetch(`${gw.adminUrl}/readyz`);
    assert.equal(notReady.status, 503, 'no backend: not ready');
    await notReady.body?.cancel();
  });
});

describe('dns discovery: SRV records', () => {
  const srvName = '_mcp._tcp.mcp.test-ns.svc.cluster.local';
  let dns: DnsServer;
  const backends: BackendProcess[] = [];
  let gw: GatewayProcess;

  before(async () => {
    dns = await startDnsServer();
    for (const n of ['s0', 's1', 'backup']) backends.push(await startBackend(n));
    const [s0, s1, backup] = backends as [BackendProcess, BackendProcess, BackendProcess];
    dns.records.set('s0.mcp.test-ns.svc.cluster.local', { a: ['127.0.0.1'] });
    dns.records.set('s1.mcp.test-ns.svc.cluster.local', { a: ['127.0.0.1'] });
    dns.records.set(srvName, {
      srv: [
        { priority: 0, weight: 50, port: s0.port, target: 's0.mcp.test-ns.svc.cluster.local' },
        { priority: 0, weight: 50, port: s1.port, target: 's1.mcp.test-ns.svc.cluster.local' },
        // RFC 2782: a higher priority value is a backup, used only when no lower one is there.
        { priority: 10, weight: 0, port: backup.port, target: '127.0.0.1' },
      ],
    });
    gw = await startGateway({ args: ['--discovery', 'dns', '--dns-name', srvName, '--dns-server', dns.address, '--dns-interval', '200ms'] });
  });
  after(async () => {
    await gw?.stop();
    await Promise.allSettled(backends.map((b) => b.stop()));
    await dns?.close();
  });

  test('each target is a backend on its own port; backups (higher priority value) are not used', async () => {
    const [s0, s1] = backends as [BackendProcess, BackendProcess];
    assert.deepEqual(await backendUrls(gw), [s0.url, s1.url].sort());
    const c = await connectClient([gw.mcpUrl]);
    const r = await c.call<{ replica: string; answer: string }>('ask_model', { prompt: 'via SRV' });
    assert.ok(['s0', 's1'].includes(r.replica));
    assert.equal(r.answer, 'model says: via SRV');
    await c.close();
  });

  test('when only the backup is left, it is used', async () => {
    const backup = backends[2] as BackendProcess;
    const srv = dns.records.get(srvName)!.srv!;
    dns.records.set(srvName, { srv: srv.filter((r) => r.priority === 10) });
    await eventually('only the backup', async () => sameSet(await backendUrls(gw), [backup.url]));
  });
});

describe('two gateway replicas whose discovery disagrees for a moment (one resolver answers first)', () => {
  // Each replica asks its own DNS server, so the test decides which one sees the new backend first: what a
  // Kubernetes watch that lags on one replica looks like. The session bound through the replica that is
  // ahead must not be unbound by the one that is behind.
  const name = 'lag.test-ns.svc.cluster.local';
  let ahead: DnsServer;
  let behind: DnsServer;
  let redis: RedisServer;
  let port: number;
  const backends: BackendProcess[] = [];
  let gwAhead: GatewayProcess;
  let gwBehind: GatewayProcess;
  const urlOf = (address: string) => `http://${address}:${port}/mcp`;

  before(async () => {
    [ahead, behind, redis, port] = await Promise.all([startDnsServer(), startDnsServer(), startRedis(), freePort()]);
    for (const [i, address] of ['127.0.0.5', '127.0.0.6'].entries()) {
      backends.push(await startBackend(`lag-${i}`, 'demo/backend.ts', ['--host', address, '--port', String(port)]));
    }
    for (const dns of [ahead, behind]) dns.records.set(name, { a: ['127.0.0.5'] });
    const gw = (dns: DnsServer, interval: string) =>
      startGateway({ redisUrl: redis.url, args: ['--discovery', 'dns', '--dns-name', `${name}:${port}`, '--dns-server', dns.address, '--dns-interval', interval] });
    // 2 s between resolves gives the replica that is behind a lag allowance of 2 x 2 s + 1 s.
    [gwAhead, gwBehind] = await Promise.all([gw(ahead, '200ms'), gw(behind, '2s')]);
  });
  after(async () => {
    await Promise.allSettled([gwAhead?.stop(), gwBehind?.stop()]);
    await Promise.allSettled(backends.map((b) => b.stop()));
    await Promise.allSettled([ahead?.close(), behind?.close(), redis?.stop()]);
  });

  test('a session on a backend only the other replica knows yet: 503 with Retry-After, the binding kept; then it routes', async () => {
    ahead.records.set(name, { a: ['127.0.0.5', '127.0.0.6'] });
    await eventually('the replica ahead sees the new backend', async () => sameSet(await backendUrls(gwAhead), [urlOf('127.0.0.5'), urlOf('127.0.0.6')]));
    assert.deepEqual(await backendUrls(gwBehind), [urlOf('127.0.0.5')]);

    // Least sessions: the new, empty backend takes the next session.
    let sid = '';
    for (let i = 0; i < 4 && !sid; i++) {
      const s = await rawSession(gwAhead.mcpUrl);
      if ((await rawCall(gwAhead.mcpUrl, s, 'whoami')).result?.replica === 'lag-1') sid = s;
    }
    assert.ok(sid, 'a session landed on the new backend');

    const res = await post(gwBehind.mcpUrl, rpc('tools/call', { name: 'whoami', arguments: {} }, 42), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    const body = (await res.json()) as { id: unknown; error: { code: number; message: string } };
    assert.equal(body.id, 42);
    assert.equal(body.error.code, -32603);
    assert.match(body.error.message, /not yet known/);
    assert.equal(metricSum(parsePrometheus(await gwBehind.metricsText()), 'mcp_gateway_session_backend_unseen_total'), 1);
    assert.equal(metricSum(parsePrometheus(await gwBehind.metricsText()), 'mcp_gateway_sessions_lost_total'), 0, 'nothing counted lost');
    assert.equal((await rawCall(gwAhead.mcpUrl, sid, 'whoami')).result?.replica, 'lag-1', 'the binding is still in the store');

    behind.records.set(name, { a: ['127.0.0.5', '127.0.0.6'] });
    await eventually('the replica behind catches up', async () => sameSet(await backendUrls(gwBehind), [urlOf('127.0.0.5'), urlOf('127.0.0.6')]));
    assert.equal((await rawCall(gwBehind.mcpUrl, sid, 'whoami')).result?.replica, 'lag-1', 'the retry reaches the session');

    // A backend both replicas saw leave is gone, not lagging: 404 on either.
    for (const dns of [ahead, behind]) dns.records.set(name, { a: ['127.0.0.5'] });
    for (const gw of [gwAhead, gwBehind]) await eventually('the backend left', async () => sameSet(await backendUrls(gw), [urlOf('127.0.0.5')]));
    const gone = await post(gwBehind.mcpUrl, rpc('tools/list', {}, 9), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(gone.status, 404);
    await gone.text();
  });
});
