import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { classify, isStatelessVersion } from '../../gateway/src/mcp/classify.ts';
import type { JsonRpcPeek } from '../../gateway/src/mcp/jsonrpc.ts';

const peek = (over: Partial<JsonRpcPeek>): JsonRpcPeek => ({
  id: 1,
  method: 'tools/list',
  name: undefined,
  isInitialize: false,
  protocolVersion: undefined,
  batch: false,
  requests: 1,
  ...over,
});

test('sessions, initialize and the rest', () => {
  assert.deepEqual(classify({ httpMethod: 'POST', sessionId: 's1', protocolVersion: '2025-11-25', peek: peek({}) }), { path: 'session', sessionId: 's1' });
  assert.deepEqual(classify({ httpMethod: 'GET', sessionId: 's1', protocolVersion: undefined, peek: undefined }), { path: 'session', sessionId: 's1' });
  assert.deepEqual(classify({ httpMethod: 'DELETE', sessionId: 's1', protocolVersion: undefined, peek: undefined }), { path: 'session', sessionId: 's1' });
  assert.deepEqual(classify({ httpMethod: 'POST', sessionId: undefined, protocolVersion: undefined, peek: peek({ isInitialize: true, method: 'initialize' }) }), { path: 'initialize' });
  assert.deepEqual(classify({ httpMethod: 'POST', sessionId: undefined, protocolVersion: undefined, peek: peek({}) }), { path: 'stateless' });
  assert.deepEqual(classify({ httpMethod: 'GET', sessionId: undefined, protocolVersion: undefined, peek: undefined }), { path: 'stateless' });
});

test('2026-07-28 requests are stateless even with a session id (the spec says ignore it)', () => {
  assert.deepEqual(classify({ httpMethod: 'POST', sessionId: 's1', protocolVersion: '2026-07-28', peek: peek({}) }), { path: 'stateless' });
  assert.deepEqual(classify({ httpMethod: 'POST', sessionId: undefined, protocolVersion: undefined, peek: peek({ protocolVersion: '2026-07-28' }) }), { path: 'stateless' });
});

test('protocol version ordering', () => {
  assert.equal(isStatelessVersion('2026-07-28'), true);
  assert.equal(isStatelessVersion('2027-01-01'), true);
  assert.equal(isStatelessVersion('2025-11-25'), false);
  assert.equal(isStatelessVersion('garbage-9999'), false);
  assert.equal(isStatelessVersion(undefined), false);
});

test('property: a session id routes by session exactly when the era has sessions', () => {
  const version = fc.option(fc.constantFrom('2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28', '2027-03-01', 'x'), { nil: undefined });
  fc.assert(
    fc.property(fc.constantFrom('GET', 'POST', 'DELETE'), fc.option(fc.string({ minLength: 1 }), { nil: undefined }), version, fc.boolean(), (m, sid, v, init) => {
      const p = m === 'POST' ? peek({ isInitialize: init, method: init ? 'initialize' : 'tools/list' }) : undefined;
      const c = classify({ httpMethod: m, sessionId: sid, protocolVersion: v, peek: p });
      const modern = isStatelessVersion(v) && !(p?.isInitialize ?? false);
      if (modern) assert.equal(c.path, 'stateless');
      else if (sid !== undefined) assert.deepEqual(c, { path: 'session', sessionId: sid });
      else assert.equal(c.path, m === 'POST' && init ? 'initialize' : 'stateless');
    }),
  );
});
