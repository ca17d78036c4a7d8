// HealthChecker against real HTTP servers on ephemeral ports: what each probe outcome does to the backend
// (answers keep or bring it back, 5xx and timeouts eject it, refused connections eject it and, past the
// grace, lose it), and the passive signals the proxy reports.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import type { Backend } from '../../gateway/src/backends/backend.ts';
import { HealthChecker } from '../../gateway/src/backends/health.ts';
import { BackendRegistry } from '../../gateway/src/backends/registry.ts';
import { freePort } from '../support/redis.ts';
import { eventually } from '../support/wait.ts';

let mode: 'ok' | '5xx' | 'hang' = 'ok';
let server: Server;
let port: number;
before(async () => {
  server = createServer((req, res) => {
    if (mode === 'hang') return; // accepted, never answered: a stalled process, a blackhole
    res.writeHead(mode === 'ok' ? 405 : 503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const log = pino({ level: 'silent' });
function checkerFor(url: string, extra: { refusedGraceMs?: number; lostAfterMs?: number } = {}) {
  const registry = new BackendRegistry({ connectTimeoutMs: 1000, headersTimeoutMs: 1000 }, log);
  registry.update([{ id: 'b', url: new URL(url), ready: true, draining: false }]);
  const lost: string[] = [];
  registry.on('lost', (_b, reason) => lost.push(reason));
  const health = new HealthChecker(registry, { intervalMs: 500, timeoutMs: 300, refusedGraceMs: 600, lostAfterMs: 60_000, ...extra }, log);
  return { registry, health, b: registry.get('b') as Backend, lost };
}

test('answers keep a backend serving; 5xx and timeouts eject it (sessions kept); an answer brings it back', async () => {
  const { registry, health, b, lost } = checkerFor(`http://127.0.0.1:${port}/mcp`);
  try {
    mode = 'ok';
    assert.equal(await health.probe(b), true);
    assert.equal(b.state, 'serving');
    mode = '5xx';
    assert.equal(await health.probe(b), false);
    assert.deepEqual([b.state, b.stateCause], ['ejected', '5xx']);
    mode = 'hang';
    assert.equal(await health.probe(b), false);
    assert.equal(b.state, 'ejected', 'still ejected, and not lost');
    mode = 'ok';
    await eventually('restored once its ejection time is over', async () => (await health.probe(b)) && b.state === 'serving');
    mode = 'hang';
    await health.probe(b);
    assert.deepEqual([b.state, b.stateCause], ['ejected', 'probe-timeout']);
    assert.deepEqual(lost, [], 'suspicion never emits lost');
  } finally {
    mode = 'ok';
    health.stop();
    await registry.close();
  }
});

test('refused on every probe past the grace: lost, by the checker running on its own', async () => {
  const { registry, health, b, lost } = checkerFor(`http://127.0.0.1:${await freePort()}/mcp`);
  try {
    health.start();
    await eventually('ejected for refusing', () => b.state === 'ejected' || b.state === 'lost');
    await eventually('lost after the grace', () => b.state === 'lost', { timeoutMs: 15_000 });
    assert.equal(b.stateCause, 'refused');
    assert.deepEqual(lost, ['refused']);
  } finally {
    health.stop();
    await registry.close();
  }
});

test('stalled past the upper bound: lost; the passive signals only eject', async () => {
  mode = 'hang';
  const { registry, health, b, lost } = checkerFor(`http://127.0.0.1:${port}/mcp`, { lostAfterMs: 1_500 });
  try {
    health.start();
    await eventually('lost after the upper bound', () => b.state === 'lost', { timeoutMs: 15_000 });
    assert.equal(b.stateCause, 'ejected-too-long');
    assert.deepEqual(lost, ['ejected-too-long']);
  } finally {
    mode = 'ok';
    health.stop();
    await registry.close();
  }
  const passive = checkerFor(`http://127.0.0.1:${port}/mcp`);
  try {
    passive.health.connectFailed(passive.b, 'EHOSTUNREACH');
    assert.deepEqual([passive.b.state, passive.b.stateCause], ['ejected', 'unreachable']);
    passive.registry.restore(passive.b);
    for (let i = 0; i < 2; i++) passive.health.resetSeen(passive.b, 'ECONNRESET');
    assert.equal(passive.b.state, 'serving', 'two resets are not enough');
    passive.health.resetSeen(passive.b, 'ECONNRESET');
    assert.deepEqual([passive.b.state, passive.b.stateCause], ['ejected', 'reset']);
    assert.deepEqual(passive.lost, []);
  } finally {
    await passive.registry.close();
  }
});
