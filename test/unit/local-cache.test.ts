import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalSessionCache } from '../../gateway/src/routing/local-cache.ts';
import type { SessionRecord } from '../../gateway/src/sessions/store.ts';

const rec = (backend: string): SessionRecord => ({ backend, kind: 'streamable', createdAt: 0 });

test('least recently used entries leave first (use moves an entry at most once a second)', () => {
  let now = 0;
  const c = new LocalSessionCache(2, 60_000, () => now);
  c.set('a', rec('x'));
  c.set('b', rec('x'));
  now = 1000;
  c.get('a');
  c.set('c', rec('y'));
  assert.equal(c.get('b'), undefined);
  assert.equal(c.get('a')?.backend, 'x');
  assert.equal(c.get('c')?.backend, 'y');
});

test('a hit within a second of the last move keeps the order (an approximate LRU: only eviction order differs)', () => {
  let now = 0;
  const c = new LocalSessionCache(2, 60_000, () => now);
  c.set('a', rec('x'));
  c.set('b', rec('x'));
  now = 999;
  assert.equal(c.get('a')?.backend, 'x');
  c.set('c', rec('y'));
  assert.equal(c.get('a'), undefined, 'a was not moved, so it was still the oldest');
  assert.equal(c.get('b')?.backend, 'x');
});

test('entries expire after the TTL without use, and use renews them', () => {
  let now = 0;
  const c = new LocalSessionCache(10, 100, () => now);
  c.set('a', rec('x'));
  c.set('b', rec('x'));
  now = 90;
  c.get('a');
  now = 150;
  assert.equal(c.get('b'), undefined);
  assert.equal(c.get('a')?.backend, 'x');
});

test('a backend that is gone takes its entries with it', () => {
  const c = new LocalSessionCache(10, 1000);
  c.set('a', rec('x'));
  c.set('b', rec('y'));
  c.set('c', rec('x'));
  assert.equal(c.deleteBackend('x'), 2);
  assert.equal(c.size, 1);
});
