// Placement over a real registry and the embedded store: least sessions wins, initializes in flight weigh,
// every pick is committed or released once, and tasks (not sessions) weigh nothing.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { BackendSpec } from '../../gateway/src/backends/backend.ts';
import { BackendRegistry } from '../../gateway/src/backends/registry.ts';
import { createMetrics } from '../../gateway/src/metrics/metrics.ts';
import { Placement } from '../../gateway/src/routing/placement.ts';
import { StoreGuard } from '../../gateway/src/sessions/guard.ts';
import { MemorySessionStore } from '../../gateway/src/sessions/memory.ts';
import type { SessionRecord } from '../../gateway/src/sessions/store.ts';

const logger = pino({ level: 'silent' });
const spec = (id: string): BackendSpec => ({ id, url: new URL(`http://198.18.0.${id === 'a' ? 1 : 2}:8080/mcp`), ready: true, draining: false });
const rec = (backend: string, kind: SessionRecord['kind'] = 'streamable'): SessionRecord => ({ backend, kind, createdAt: Date.now() });
const closeables: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const c of closeables) await c.close();
});

function setup() {
  const registry = new BackendRegistry({ connectTimeoutMs: 1000, headersTimeoutMs: 1000 }, logger);
  registry.update([spec('a'), spec('b')]);
  const store = new MemorySessionStore({ ttlMs: 60_000, maxSessions: 1000 });
  const guard = new StoreGuard(createMetrics(new Registry(), { processMetrics: false }), 500);
  closeables.push(registry, store);
  return { store, placement: new Placement(registry, store, guard, 60_000, logger) };
}

test('the backend with the fewest sessions wins; picks in flight count until committed or released', async () => {
  const { store, placement } = setup();
  await store.bind('s1', rec('a'));
  await store.bind('s2', rec('a'));
  await placement.refresh();
  const first = placement.hold();
  const second = placement.hold();
  assert.equal(first.pick(new Set())?.id, 'b');
  assert.equal(second.pick(new Set())?.id, 'b', 'one in flight on b still weighs less than two sessions on a');
  first.commit();
  second.done(); // nothing bound: released
  assert.equal(placement.counts.get('b'), 1);
  const third = placement.hold();
  // a: 2, b: 1 + 0 in flight.
  assert.equal(third.pick(new Set())?.id, 'b');
  assert.equal(third.pick(new Set(['b']))?.id, 'a', 'a retry elsewhere gives back the first pick');
  third.done();
  third.done(); // idempotent
  const fourth = placement.hold();
  assert.equal(fourth.pick(new Set())?.id, 'b', 'nothing left in flight after done()');
  fourth.done();
});

test('tasks are not sessions: they weigh nothing in placement', async () => {
  const { store, placement } = setup();
  for (let i = 0; i < 5; i++) await store.bind(`task-${i}`, rec('b', 'task'));
  await store.bind('s1', rec('a'));
  await placement.refresh();
  assert.equal(placement.counts.get('b'), 0);
  assert.equal(placement.counts.get('a'), 1);
  const h = placement.hold();
  assert.equal(h.pick(new Set())?.id, 'b');
  h.done();
});
