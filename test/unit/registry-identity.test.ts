// The registry keys backends by identity: a changed address or a new incarnation of the same pod name is a
// different server, so the old one is reported lost (its sessions get unbound) and a fresh one takes its place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { BackendSpec } from '../../gateway/src/backends/backend.ts';
import { BackendRegistry } from '../../gateway/src/backends/registry.ts';

function spec(id: string, ip: string, instance?: string, ready = true, draining = false): BackendSpec {
  return { id, url: new URL(`http://${ip}:8080/mcp`), ready, draining, ...(instance ? { instance } : {}) };
}

test('same pod name, new UID (a StatefulSet pod recreated on the same IP): the old backend is lost', async () => {
  const registry = new BackendRegistry({ connectTimeoutMs: 1000, headersTimeoutMs: 1000 }, pino({ level: 'silent' }));
  const lost: string[] = [];
  registry.on('lost', (b, reason) => lost.push(`${b.id}/${b.instance}:${reason}`));
  registry.update([spec('web-0', '198.18.0.1', 'uid-1'), spec('web-1', '198.18.0.2', 'uid-2')]);
  const first = registry.get('web-0');

  registry.update([spec('web-0', '198.18.0.1', 'uid-1', false, true), spec('web-1', '198.18.0.2', 'uid-2')]);
  assert.equal(registry.get('web-0'), first, 'a state change keeps the backend');
  assert.deepEqual([first?.ready, first?.draining, first?.acceptsNew, first?.servesExisting], [false, true, false, true]);
  assert.deepEqual(lost, []);

  registry.update([spec('web-0', '198.18.0.1', 'uid-3'), spec('web-1', '198.18.0.2', 'uid-2')]);
  assert.deepEqual(lost, ['web-0/uid-1:incarnation'], 'a new incarnation is proof of loss, named as such');
  assert.notEqual(registry.get('web-0'), first);
  assert.equal(registry.get('web-0')?.instance, 'uid-3');

  registry.update([spec('web-1', '198.18.0.2', 'uid-2')]);
  assert.deepEqual(lost, ['web-0/uid-1:incarnation', 'web-0/uid-3:removed']);
  assert.equal(first?.state, 'lost', 'a removed backend ends in the lost state');
  await registry.close();
});

test('a backend this replica does not have: gone, or not yet seen (another replica is ahead)', async () => {
  const log = pino({ level: 'silent' });
  const pool = { connectTimeoutMs: 1000, headersTimeoutMs: 1000 };
  const now = Date.now();
  const bound = (backend: string, createdAt: number, instance?: string) => ({ backend, createdAt, ...(instance ? { instance } : {}) });

  const fixed = new BackendRegistry(pool, log); // a static list: every replica reads the same one
  assert.equal(fixed.whyUnknown(bound('web-9', now - 10), now), 'gone');

  const watched = new BackendRegistry(pool, log, { discoveryLagMs: 30_000 });
  assert.equal(watched.whyUnknown(bound('web-9', now - 5_000), now), 'not-yet-seen', 'bound moments ago: a pod another replica saw first');
  assert.equal(watched.whyUnknown(bound('web-9', now - 31_000), now), 'gone', 'bound longer ago than any discovery lag');

  // Without incarnations (dns): bound before the name left here, it went with it; bound after, it is new.
  watched.update([spec('web-0', '198.18.0.1')]);
  const beforeRemoval = Date.now() - 1;
  await new Promise((r) => setTimeout(r, 5));
  watched.update([]);
  assert.equal(watched.whyUnknown(bound('web-0', beforeRemoval)), 'gone');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(watched.whyUnknown(bound('web-0', Date.now())), 'not-yet-seen');
  await Promise.all([fixed.close(), watched.close()]);
});

test('incarnations: a StatefulSet pod recreated under its name is told apart from the old one', async () => {
  const registry = new BackendRegistry({ connectTimeoutMs: 1000, headersTimeoutMs: 1000 }, pino({ level: 'silent' }), { discoveryLagMs: 30_000 });
  const bound = (instance: string | undefined, createdAt = Date.now()) => ({ backend: 'web-0', createdAt, ...(instance ? { instance } : {}) });
  registry.update([spec('web-0', '198.18.0.1', 'uid-1')]);
  assert.equal(registry.forBinding(bound('uid-1'))?.instance, 'uid-1');
  assert.equal(registry.forBinding(bound(undefined))?.instance, 'uid-1', 'a binding from before incarnations were recorded still routes');

  // Another replica saw uid-2 first and bound a session to it: this replica still has uid-1.
  assert.equal(registry.forBinding(bound('uid-2')), undefined, 'never sent to the old incarnation');
  assert.equal(registry.whyUnknown(bound('uid-2')), 'not-yet-seen');

  // Now this replica catches up: uid-1 is gone (its sessions with it), uid-2 routes.
  registry.update([spec('web-0', '198.18.0.1', 'uid-2')]);
  assert.equal(registry.forBinding(bound('uid-1')), undefined);
  assert.equal(registry.whyUnknown(bound('uid-1')), 'gone', 'the old incarnation left here, however recent the binding');
  assert.equal(registry.forBinding(bound('uid-2'))?.instance, 'uid-2');
  assert.equal(registry.whyUnknown(bound('uid-3', Date.now() - 60_000)), 'gone', 'an incarnation never seen, bound long ago');
  await registry.close();
});
