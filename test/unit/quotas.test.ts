// Quotas over the embedded store: sessions per principal count sessions (not tasks), streams per session
// and per principal are held and given back, and the request rate refuses with Retry-After.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Registry } from 'prom-client';
import { GatewayError } from '../../gateway/src/errors.ts';
import { Quotas } from '../../gateway/src/http/quotas.ts';
import { createMetrics } from '../../gateway/src/metrics/metrics.ts';
import { StoreGuard } from '../../gateway/src/sessions/guard.ts';
import { MemorySessionStore } from '../../gateway/src/sessions/memory.ts';
import type { SessionRecord } from '../../gateway/src/sessions/store.ts';

const stores: MemorySessionStore[] = [];
after(async () => {
  for (const s of stores) await s.close();
});

function setup(o: Partial<ConstructorParameters<typeof Quotas>[2]> = {}) {
  const store = new MemorySessionStore({ ttlMs: 60_000, maxSessions: 1000 });
  stores.push(store);
  const metrics = createMetrics(new Registry(), { processMetrics: false });
  const quotas = new Quotas(store, new StoreGuard(metrics, 500), { rateLimit: 0, rateBurst: 1, maxSessionsPerPrincipal: 0, maxStreamsPerSession: 1, maxStreamsPerPrincipal: 2, ...o }, metrics);
  const rejections = async (limit: string) =>
    (await metrics.registry.getSingleMetric('mcp_gateway_limit_rejections_total')!.get()).values.find((v) => v.labels.limit === limit)?.value ?? 0;
  return { store, quotas, rejections };
}
const rec = (principal: string, kind: SessionRecord['kind'] = 'streamable'): SessionRecord => ({ backend: 'b', kind, createdAt: Date.now(), principal });
const is429 = (err: unknown) => err instanceof GatewayError && err.status === 429 && (err.retryAfter ?? 0) >= 1;

test('sessions per principal: sessions count, tasks do not; other principals are unaffected', async () => {
  const { store, quotas, rejections } = setup({ maxSessionsPerPrincipal: 2 });
  await store.bind('s1', rec('alice'));
  for (let i = 0; i < 3; i++) await store.bind(`t${i}`, rec('alice', 'task'));
  await quotas.checkNewSession('alice'); // one session and three tasks: room for one more session
  await store.bind('s2', rec('alice'));
  await assert.rejects(quotas.checkNewSession('alice'), is429);
  await quotas.checkNewSession('bob');
  await quotas.checkNewSession(undefined); // auth off: nobody to hold to account
  assert.equal(await rejections('sessions_per_principal'), 1);
});

test('streams: per session and per principal, each slot given back once', () => {
  const { quotas } = setup();
  const r1 = quotas.openStream('s1', 'alice');
  assert.throws(() => quotas.openStream('s1', 'alice'), is429, 'one per session');
  const r2 = quotas.openStream('s2', 'alice');
  assert.throws(() => quotas.openStream('s3', 'alice'), is429, 'two per principal');
  quotas.openStream('s3', 'bob')();
  r1();
  r1(); // idempotent: does not free a slot it does not hold
  const r3 = quotas.openStream('s1', 'alice');
  assert.throws(() => quotas.openStream('s4', 'alice'), is429, 'still two per principal after a double release');
  r2();
  r3();
});

test('request rate: the burst passes, then 429 with Retry-After', async () => {
  const { quotas, rejections } = setup({ rateLimit: 1, rateBurst: 3 });
  for (let i = 0; i < 3; i++) await quotas.checkRate('alice');
  await assert.rejects(quotas.checkRate('alice') as Promise<void>, is429);
  await quotas.checkRate('bob');
  assert.equal(await rejections('rate'), 1);
});
