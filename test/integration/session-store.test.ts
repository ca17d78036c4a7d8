// One suite, both stores: the SessionStore contract the router relies on, against the in-memory store and
// against a real redis-server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { GatewayError } from '../../gateway/src/errors.ts';
import { createMetrics } from '../../gateway/src/metrics/metrics.ts';
import { SessionDirectory } from '../../gateway/src/routing/session-directory.ts';
import { StoreGuard } from '../../gateway/src/sessions/guard.ts';
import { MemorySessionStore } from '../../gateway/src/sessions/memory.ts';
import { RedisSessionStore } from '../../gateway/src/sessions/redis.ts';
import type { SessionRecord, SessionStore, StoreEvent } from '../../gateway/src/sessions/store.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

const silent = pino({ level: 'silent' });
const TTL = 400;
const rec = (backend: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({ backend, kind: 'streamable', createdAt: 1, ...extra });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const uniq = (p: string) => `${p}-${process.pid}-${++seq}`;

interface Flavour {
  name: string;
  make(instanceId?: string): SessionStore;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

let redis: RedisServer | undefined;
const made: SessionStore[] = [];
const flavours: Flavour[] = [
  { name: 'memory', make: () => new MemorySessionStore({ ttlMs: TTL, maxSessions: 1000 }) },
  {
    name: 'redis',
    setup: async () => {
      redis = await startRedis();
    },
    teardown: async () => {
      await redis?.stop();
    },
    make: (instanceId = uniq('gw')) => new RedisSessionStore({ url: redis!.url, keyPrefix: 'test:', ttlMs: TTL, instanceId, logger: silent }),
  },
];

for (const f of flavours) {
  describe(`SessionStore contract: ${f.name}`, () => {
    let store: SessionStore;
    before(async () => {
      await f.setup?.();
      store = f.make();
      made.push(store);
      await waitUntil(() => store.ping().then(() => true, () => false));
    });
    after(async () => {
      await Promise.all(made.splice(0).map((s) => s.close()));
      await f.teardown?.();
    });

    test('bind then get returns the record; a second bind is refused and shows the first', async () => {
      const id = uniq('s');
      assert.deepEqual(await store.bind(id, rec('b1', { principal: 'iss|alice', protocolVersion: '2025-11-25' })), { bound: true });
      assert.deepEqual(await store.get(id), rec('b1', { principal: 'iss|alice', protocolVersion: '2025-11-25' }));
      const again = await store.bind(id, rec('b2'));
      assert.equal(again.bound, false);
      assert.equal(!again.bound && again.existing.backend, 'b1');
      assert.equal((await store.get(id))?.backend, 'b1');
    });

    test('concurrent binds of one id: exactly one wins', async () => {
      const id = uniq('race');
      const results = await Promise.all(['x', 'y', 'z', 'w'].map((b) => store.bind(id, rec(b))));
      assert.equal(results.filter((r) => r.bound).length, 1);
      const winner = (await store.get(id))!.backend;
      for (const r of results) if (!r.bound) assert.equal(r.existing.backend, winner);
      assert.equal((await store.countByBackend([winner])).get(winner), 1);
    });

    test('expiry is sliding: use renews a session, disuse ends it', async () => {
      const used = uniq('used');
      const touched = uniq('touched');
      const idle = uniq('idle');
      await store.bind(used, rec('b1'));
      await store.bind(touched, rec('b1'));
      await store.bind(idle, rec('b1'));
      for (let i = 0; i < 4; i++) {
        await sleep(TTL / 3);
        assert.ok(await store.get(used));
        await store.touch([{ id: touched, backend: 'b1' }]);
      }
      assert.equal(await store.get(idle), undefined, 'unused session expired');
      assert.ok(await store.get(used), 'used session alive after more than its TTL');
      assert.ok(await store.get(touched), 'touched session alive after more than its TTL');
    });

    test('unbind and unbindBackend remove bindings and counts', async () => {
      const [b1, b2] = [uniq('be'), uniq('be')];
      const ids = [uniq('u'), uniq('u'), uniq('u')];
      await store.bind(ids[0]!, rec(b1));
      await store.bind(ids[1]!, rec(b1));
      await store.bind(ids[2]!, rec(b2));
      assert.deepEqual([...(await store.countByBackend([b1, b2])).values()], [2, 1]);
      assert.equal(await store.unbind(ids[2]!), true);
      assert.equal(await store.unbind(ids[2]!), false);
      assert.deepEqual((await store.sessionsOf(b1)).sort(), [ids[0], ids[1]].sort());
      assert.deepEqual((await store.unbindBoundBefore(b1, await store.sessionsOf(b1), Date.now() + 1)).sort(), [ids[0], ids[1]].sort());
      for (const id of ids) assert.equal(await store.get(id), undefined);
      assert.deepEqual([...(await store.countByBackend([b1, b2])).values()], [0, 0]);
    });

    test('a backend lost and back: only sessions bound before the loss are unbound', async () => {
      const b = uniq('be');
      const now = Date.now();
      const [before, after] = [uniq('before'), uniq('after')];
      await store.bind(before, rec(b, { createdAt: now - 1000 }));
      await store.bind(after, rec(b, { createdAt: now + 5 }));
      assert.deepEqual(await store.unbindBoundBefore(b, await store.sessionsOf(b), now), [before]);
      assert.equal(await store.get(before), undefined);
      assert.equal((await store.get(after))?.backend, b, 'a session bound after the loss lives on');
      assert.equal((await store.countByBackend([b])).get(b), 1);
    });

    test('a pod recreated under its name: the old incarnation\'s loss keeps the new one\'s sessions', async () => {
      const b = uniq('web');
      const now = Date.now();
      const [old, fresh, legacy] = [uniq('old'), uniq('fresh'), uniq('legacy')];
      await store.bind(old, rec(b, { instance: 'uid-1', createdAt: now - 2000 }));
      // Bound by a replica that saw the new pod before this one noticed the old pod leave.
      await store.bind(fresh, rec(b, { instance: 'uid-2', createdAt: now - 1000 }));
      await store.bind(legacy, rec(b, { createdAt: now - 1000 })); // from before incarnations were recorded
      assert.deepEqual(await store.get(fresh), rec(b, { instance: 'uid-2', createdAt: now - 1000 }), 'the incarnation round-trips');
      assert.deepEqual((await store.unbindBoundBefore(b, await store.sessionsOf(b), now, 'uid-1')).sort(), [old, legacy].sort());
      assert.equal((await store.get(fresh))?.instance, 'uid-2');
      assert.deepEqual(await store.sessionsOf(b), [fresh]);
    });

    test('counts leave out expired sessions', async () => {
      const b = uniq('be');
      await store.bind(uniq('c'), rec(b));
      assert.equal((await store.countByBackend([b])).get(b), 1);
      // Past its TTL the session leaves the count (waited for, with a deadline: never a fixed sleep).
      await waitUntil(async () => (await store.countByBackend([b])).get(b) === 0, TTL * 20);
    });
  });
}

describe('memory store limits', () => {
  test('past maxSessions a new session is refused with 503, none is evicted', async () => {
    const store = new MemorySessionStore({ ttlMs: 60_000, maxSessions: 2 });
    await store.bind('a', rec('x'));
    await store.bind('b', rec('x'));
    await assert.rejects(store.bind('c', rec('x')), (e: unknown) => e instanceof GatewayError && e.code === 'SESSION_CAPACITY' && e.status === 503);
    assert.ok(await store.get('a'));
    assert.ok(await store.get('b'));
    await store.close();
  });
});

describe('redis store between replicas and through outages', () => {
  let server: RedisServer;
  const stores: RedisSessionStore[] = [];
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await server.stop();
  });
  const make = () => {
    const s = new RedisSessionStore({ url: server.url, keyPrefix: 'rep:', ttlMs: 60_000, instanceId: uniq('gw'), logger: silent });
    stores.push(s);
    return s;
  };

  test('an invalidation published by one replica reaches the others, not itself', async () => {
    const [a, b] = [make(), make()];
    await waitUntil(() => Promise.all([a.ping(), b.ping()]).then(() => true, () => false));
    const seenA: StoreEvent[] = [];
    const seenB: StoreEvent[] = [];
    a.onEvent((e) => seenA.push(e));
    b.onEvent((e) => seenB.push(e));
    // Subscriptions are in place once a warm-up message gets through.
    await waitUntil(async () => {
      await a.publish({ type: 'unbound', id: 'warm-up', origin: 'warm-up' });
      return seenB.length > 0;
    });
    const gone = (e: StoreEvent) => e.type === 'unbound' && e.id === 'gone';
    await a.publish({ type: 'unbound', id: 'gone', origin: 'ignored-by-b' });
    await waitUntil(async () => seenB.some(gone));
    assert.deepEqual(seenB.filter(gone), [{ type: 'unbound', id: 'gone', origin: 'ignored-by-b' }]);
    await b.publish({ type: 'backend-gone', backend: 'x', origin: b.instanceId });
    // Redis delivers one channel's messages in the order it ran the PUBLISHes: once this marker is in, b's own
    // event would have been too.
    await a.publish({ type: 'unbound', id: 'marker', origin: 'marker' });
    await waitUntil(async () => seenB.some((e) => e.type === 'unbound' && e.id === 'marker'));
    assert.equal(seenB.filter((e) => e.type === 'backend-gone').length, 0, 'a replica ignores its own events');
  });

  test('with Redis down, known sessions route from the cache, new ones bind locally and are written back', async () => {
    const store = make();
    await waitUntil(() => store.ping().then(() => true, () => false));
    const metrics = createMetrics(new Registry(), { processMetrics: false });
    const guard = new StoreGuard(metrics, 200);
    const dir = new SessionDirectory(store, guard, { ttlMs: 60_000, cacheSize: 100, instanceId: 'dir', flushIntervalMs: 100 }, silent);
    await dir.bind('known', rec('b1'));
    assert.equal((await dir.lookup('known'))?.backend, 'b1');

    await server.stop();
    const started = Date.now();
    assert.equal((await dir.lookup('known'))?.backend, 'b1', 'routed from the local cache');
    await assert.rejects(dir.lookup('never-seen'), (e: unknown) => e instanceof GatewayError && e.code === 'STORE_UNAVAILABLE');
    assert.ok(Date.now() - started < 1500, 'no request waits past the store timeout');
    assert.deepEqual(await dir.bind('born-in-outage', rec('b2')), { bound: true });
    assert.equal(dir.pendingWriteBacks, 1);
    assert.equal((await dir.lookup('born-in-outage'))?.backend, 'b2');
    assert.equal(guard.degraded, true);

    await server.start();
    await waitUntil(async () => dir.pendingWriteBacks === 0, 10_000);
    const other = make();
    await waitUntil(() => other.ping().then(() => true, () => false));
    assert.equal((await other.get('born-in-outage'))?.backend, 'b2', 'another replica sees the written-back session');
    await dir.close();
  });
});

async function waitUntil(cond: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}
