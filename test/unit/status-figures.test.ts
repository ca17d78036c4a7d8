// The status page's own arithmetic: the last-minute traffic window and the exposure policy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reachOf, statusPolicy, tokenMatches } from '../../gateway/src/admin/status-policy.ts';
import { eraOf, TrafficWindow } from '../../gateway/src/admin/traffic-window.ts';
import { loadConfig } from '../../gateway/src/config/load.ts';
import { MemorySessionStore } from '../../gateway/src/sessions/memory.ts';
import { refusal } from '../support/config.ts';

test('the traffic window counts a minute of requests per backend and forgets older ones', () => {
  let now = 1_000_000;
  const w = new TrafficWindow(() => now);
  for (let i = 0; i < 98; i++) w.record({ backend: 'a', route: 'session', status: 200, latencyMs: 3 });
  w.record({ backend: 'a', route: 'session', status: 502, latencyMs: 40 });
  w.record({ backend: 'a', route: 'session', status: 0, latencyMs: 2000 });
  w.record({ backend: 'b', route: 'initialize', status: 200, latencyMs: 1 });
  w.record({ backend: 'b', route: 'session', status: 0, latencyMs: 9, clientClosed: true });
  assert.deepEqual([w.backend('b').requests, w.backend('b').errors], [2, 0], 'a client that left is not the backend\'s error');
  const a = w.backend('a');
  assert.deepEqual([a.requests, a.errors, a.p50Ms, a.p99Ms], [100, 2, 5, 50]);
  assert.equal(a.requestsPerSecond, Math.round((100 / 60) * 100) / 100);
  assert.equal(w.era('sessions').newSessionsPerMinute, 1);
  now += 59_000;
  assert.equal(w.backend('a').requests, 100, 'still within the minute');
  now += 2000;
  assert.deepEqual(w.backend('a'), { requestsPerSecond: 0, errorsPerSecond: 0, p50Ms: null, p99Ms: null, requests: 0, errors: 0 });
  // A slot a minute old is reused, not added to.
  w.record({ backend: 'a', route: 'session', status: 200, latencyMs: 3 });
  assert.equal(w.backend('a').requests, 1);
  assert.equal(w.backend('unknown').requests, 0);
});

test('eras come from the classifier path', () => {
  assert.deepEqual(
    ['session', 'initialize', 'stateless', 'task', 'legacy-sse-open', 'legacy-sse-message', undefined].map(eraOf),
    ['sessions', 'sessions', 'stateless', 'stateless', 'legacy-sse', 'legacy-sse', undefined],
  );
});

test('the bind address decides how far the admin listener reaches', () => {
  const outside = {};
  const pod = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };
  assert.equal(reachOf('127.0.0.1', outside), 'loopback');
  assert.equal(reachOf('::1', outside), 'loopback');
  assert.equal(reachOf('[::ffff:127.0.0.2]', outside), 'loopback');
  assert.equal(reachOf('localhost', outside), 'loopback');
  for (const a of ['10.1.2.3', '172.20.0.1', '192.168.1.1', '100.64.0.9', 'fd00::1', 'fe80::1']) assert.equal(reachOf(a, outside), 'private', a);
  for (const a of ['172.32.0.1', '8.8.8.8', '2001:db8::1', 'gateway.example.com']) assert.equal(reachOf(a, outside), 'exposed', a);
  assert.equal(reachOf('0.0.0.0', outside), 'exposed');
  assert.equal(reachOf('::', outside), 'exposed');
  assert.equal(reachOf('0.0.0.0', pod), 'pod-network');
});

test('the page is served without a token only where it cannot be reached from outside', () => {
  const at = (adminHost: string, statusToken?: string, statusPage = true, env: NodeJS.ProcessEnv = {}) => statusPolicy({ adminHost, statusToken, statusPage }, env);
  assert.deepEqual([at('127.0.0.1').enabled, at('127.0.0.1').tokenRequired], [true, false]);
  assert.deepEqual([at('0.0.0.0').enabled, at('0.0.0.0').tokenRequired], [false, false]);
  assert.match(at('0.0.0.0').reason, /STATUS_TOKEN/);
  assert.deepEqual([at('0.0.0.0', 'x'.repeat(16)).enabled, at('0.0.0.0', 'x'.repeat(16)).tokenRequired], [true, true]);
  assert.equal(at('127.0.0.1', 'x'.repeat(16)).tokenRequired, true, 'a token, once set, is always required');
  assert.equal(at('0.0.0.0', undefined, true, { KUBERNETES_SERVICE_HOST: '10.96.0.1' }).enabled, true);
  assert.equal(at('127.0.0.1', 'x'.repeat(16), false).enabled, false);
});

test('the status token is matched exactly, as a Bearer credential', () => {
  const t = 'a-status-token-0123456789';
  assert.equal(tokenMatches(`Bearer ${t}`, t), true);
  assert.equal(tokenMatches(`bearer ${t}`, t), true);
  for (const h of [undefined, '', t, `Bearer ${t}x`, `Bearer ${t.slice(1)}`, `Basic ${t}`, `Bearer ${t} extra`]) assert.equal(tokenMatches(h, t), false, String(h));
});

test('the status page flags: on by default, --no-status-page, and a token from the environment only', () => {
  const B = ['--backends', 'http://a:3000/mcp'];
  const config = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = loadConfig(argv, env);
    assert.equal(r.kind, 'run');
    return (r as Extract<typeof r, { kind: 'run' }>).config;
  };
  assert.deepEqual([config(B).statusPage, config(B).statusToken], [true, undefined]);
  assert.equal(config([...B, '--no-status-page']).statusPage, false);
  assert.equal(config(B, { STATUS_PAGE: 'false' }).statusPage, false);
  assert.equal(config(B, { STATUS_TOKEN: 'a-status-token-0123456789' }).statusToken, 'a-status-token-0123456789');
  assert.match(refusal([...B, '--status-token', 'a-status-token-0123456789']).join('\n'), /not taken from the command line/);
  assert.match(refusal(B, { STATUS_TOKEN: 'short' }).join('\n'), /at least 16 characters/);
});

test('the in-memory store lists only its own replica, and a look at a binding renews nothing', async () => {
  let now = 1_000_000;
  const store = new MemorySessionStore({ ttlMs: 60_000, maxSessions: 10, now: () => now });
  try {
    assert.deepEqual(await store.replicas(), []);
    const me = { id: 'r1', version: '1', startedAt: now, host: 'h', adminPort: 9090, expiresAt: now + 15_000 };
    await store.heartbeat(me);
    assert.deepEqual(await store.replicas(), [me]);
    now += 15_000;
    assert.deepEqual(await store.replicas(), [], 'lapsed');
    await store.bind('s1', { backend: 'b', kind: 'streamable', createdAt: now });
    now += 10_000;
    assert.deepEqual(await store.inspect('s1'), { record: { backend: 'b', kind: 'streamable', createdAt: now - 10_000 }, ttlLeftMs: 50_000 });
    now += 10_000;
    assert.equal((await store.inspect('s1'))?.ttlLeftMs, 40_000, 'inspect did not renew the TTL');
    assert.equal(await store.inspect('unknown'), undefined);
    now += 40_000;
    assert.equal(await store.inspect('s1'), undefined, 'expired');
  } finally {
    await store.close();
  }
});
