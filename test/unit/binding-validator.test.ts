import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeBinding } from '../../gateway/src/routing/binding-validator.ts';
import type { SessionRecord } from '../../gateway/src/sessions/store.ts';

const rec = (over: Partial<SessionRecord> = {}): SessionRecord => ({ backend: 'a', kind: 'streamable', createdAt: 1, ...over });

test('one verdict for every route: unknown, other kind, other principal, usable', () => {
  assert.equal(judgeBinding(undefined, 'streamable', undefined), 'unknown');
  assert.equal(judgeBinding(rec({ kind: 'task' }), 'streamable', undefined), 'other-kind');
  assert.equal(judgeBinding(rec({ principal: 'alice' }), 'streamable', 'bob'), 'other-principal');
  assert.equal(judgeBinding(rec({ kind: 'legacy-sse', principal: 'alice' }), 'legacy-sse', 'alice'), 'usable');
  assert.equal(judgeBinding(rec({ kind: 'task' }), 'task', undefined), 'usable');
});

test('a binding made without a principal is nobody\'s to claim, and one made by a principal is not open to all', () => {
  assert.equal(judgeBinding(rec(), 'streamable', 'alice'), 'other-principal');
  assert.equal(judgeBinding(rec({ principal: 'alice' }), 'streamable', undefined), 'other-principal');
});
