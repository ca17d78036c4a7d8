// SessionDirectory in front of a real redis-server (the shared store is what gives it a cache, events and
// write-back): a lookup racing an unbind must not re-cache the dead binding, and the write-back queue of an
// outage is bounded, counted when it drops, and flushed in batches once the store is back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createMetrics } from '../../gateway/src/metrics/metrics.ts';
import { SessionDirectory } from '../../gateway/src/routing/session-directory.ts';
import { StoreGuard } from '../../gateway/src/sessions/guard.ts';
import { RedisSessionStore } from '../../gateway/src/sessions/redis.ts';
import type { SessionRecord } from '../../gateway/src/sessions/store.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { eventually } from '../support/wait.ts';

const logger = pino({ level: 'silent' });
const TTL = 60_000;
const record = (backend = 'http://a/mcp', createdAt = Date.now() - 1000): SessionRecord => ({ backend, kind: 'streamable', createdAt });

let redis: RedisServer;
const closeables: Array<{ close(): Promise<void> }> = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const c of closeables.reverse()) await c.close();
  await redis?.stop();
});

async function directory(prefix: string, options: { maxPendingWriteBacks?: number } = {}) {
  const metrics = createMetrics(new Registry(), { processMetrics: false });
  const store = new RedisSessionStore({ url: redis.url, keyPrefix: prefix, ttlMs: TTL, instanceId: `i-${Math.random()}`, logger, commandTimeoutMs: 500 });
  await store.waitConnected(5000);
  const guard = new StoreGuard(metrics, 500);
  guard.onTimeout = () => store.resetConnection();
  const dir = new SessionDirectory(store, guard, { ttlMs: TTL, cacheSize: 100, instanceId: 'test', flushIntervalMs: 3_600_000, ...options }, logger);
  dir.onWriteBackDropped = () => metrics.sessionWriteBacksDropped.inc();
  closeables.push(store, dir);
  return { dir, store, metrics };
}

describe('a lookup racing an invalidation', () => {
  test('an unbind that lands while the store answers is not undone by caching the answer', async () => {
    const { dir: writer } = await directory('race1:');
    const { dir } = await directory('race1:');
    await writer.bind('s1', record());
    // Both leave in one pipeline, the GETEX first: its answer (the binding) arrives after the unbind began.
    const looked = dir.lookup('s1');
    const unbound = dir.unbind('s1', 'http://a/mcp');
    assert.equal(await looked, undefined, 'the binding was being removed: not handed out');
    assert.equal(await unbound, true);
    assert.equal(await dir.lookup('s1'), undefined, 'and not cached: the next lookup asks the store');
  });

  test('a backend declared gone while the store answers: the answer is not cached', async () => {
    const { dir: writer } = await directory('race2:');
    const { dir } = await directory('race2:');
    await writer.bind('s2', record('http://gone/mcp'));
    const looked = dir.lookup('s2');
    const removed = dir.unbindBackend('http://gone/mcp');
    assert.equal((await looked)?.backend, 'http://gone/mcp', 'answered: the route judges the backend');
    assert.equal(await removed, 1);
    assert.equal(await dir.lookup('s2'), undefined, 'not cached: the next lookup sees the store without it');
  });
});

describe('write-back after a store outage', () => {
  test('bounded (oldest dropped and counted from 0), then written back in batches once the store returns', async () => {
    const { dir, metrics } = await directory('wb:', { maxPendingWriteBacks: 3 });
    const dropped = async () => (await metrics.registry.getSingleMetric('mcp_gateway_session_writeback_dropped_total')!.get()).values[0]?.value;
    assert.equal(await dropped(), 0, 'the series exists from the first scrape');
    await redis.stop();
    try {
      for (let i = 0; i < 5; i++) assert.deepEqual(await dir.bind(`w${i}`, record()), { bound: true }, 'bound locally during the outage');
      assert.equal(dir.pendingWriteBacks, 3);
      assert.equal(await dropped(), 2);
      assert.equal((await dir.lookup('w0'))?.backend, 'http://a/mcp', 'a dropped binding still routes from the cache');
    } finally {
      await redis.start();
    }
    await eventually('pending bindings written back', async () => {
      await dir.flush();
      return dir.pendingWriteBacks === 0;
    });
    const check = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      const exists = await Promise.all([0, 1, 2, 3, 4].map((i) => check.exists(`wb:s:{w${i}}`)));
      assert.deepEqual(exists, [0, 0, 1, 1, 1], 'the three kept are in the store, the two dropped are not');
    } finally {
      check.disconnect();
    }
  });
});
