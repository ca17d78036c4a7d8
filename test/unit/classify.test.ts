import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { classify, isStatelessVersion, TASK_CREATING_METHODS, TASK_METHODS, type ClassifyInput, type Endpoint } from '../../gateway/src/mcp/classify.ts';
import type { JsonRpcPeek } from '../../gateway/src/mcp/jsonrpc.ts';

const peek = (over: Partial<JsonRpcPeek>): JsonRpcPeek => ({
  id: 1,
  method: 'tools/list',
  name: undefined,
  mirroredName: undefined,
  isInitialize: false,
  protocolVersion: undefined,
  batch: false,
  requests: 1,
  ...over,
});

/** A classify input whose body summary counts how often it was asked for. */
function input(over: Partial<Omit<ClassifyInput, 'peek'>> & { body?: JsonRpcPeek }) {
  const calls = { peeks: 0 };
  const { body, ...rest } = over;
  const value: ClassifyInput = {
    httpMethod: 'POST',
    endpoint: 'mcp',
    sessionId: undefined,
    legacySessionId: undefined,
    protocolVersion: undefined,
    mcpMethod: undefined,
    mcpName: undefined,
    ...rest,
    peek: () => {
      calls.peeks++;
      return body;
    },
  };
  return { value, calls };
}
const run = (over: Parameters<typeof input>[0]) => classify(input(over).value);

test('sessions, initialize and the rest', () => {
  assert.deepEqual(run({ sessionId: 's1', protocolVersion: '2025-11-25', body: peek({}) }), { path: 'session', sessionId: 's1' });
  assert.deepEqual(run({ httpMethod: 'GET', sessionId: 's1' }), { path: 'session', sessionId: 's1' });
  assert.deepEqual(run({ httpMethod: 'DELETE', sessionId: 's1' }), { path: 'session', sessionId: 's1' });
  assert.deepEqual(run({ body: peek({ isInitialize: true, method: 'initialize' }) }), { path: 'initialize' });
  assert.deepEqual(run({ body: peek({}) }), { path: 'stateless', watchForTask: false });
  assert.deepEqual(run({ httpMethod: 'GET' }), { path: 'stateless', watchForTask: false });
});

test('a 2026-07-28 request with a session id is checked as a session first, stateless otherwise', () => {
  // Its servers ignore the id, but a dual-era one need not: the id never reaches a backend unchecked.
  const stateless = { path: 'stateless', watchForTask: false };
  assert.deepEqual(run({ sessionId: 's1', protocolVersion: '2026-07-28', mcpMethod: 'tools/list', body: peek({}) }), { path: 'session', sessionId: 's1', otherwise: stateless });
  assert.deepEqual(run({ sessionId: 's1', protocolVersion: '2026-07-28', body: peek({}) }), { path: 'session', sessionId: 's1', otherwise: stateless });
  assert.deepEqual(run({ sessionId: 's1', protocolVersion: '2026-07-28', mcpMethod: 'tasks/get', mcpName: 't1' }), { path: 'session', sessionId: 's1', otherwise: { path: 'task', taskId: 't1' } });
  assert.deepEqual(run({ body: peek({ protocolVersion: '2026-07-28' }) }), { path: 'stateless', watchForTask: false });
});

test('tasks: a tools/call answer is watched, tasks/* with Mcp-Name are pinned by it', () => {
  const modern = { protocolVersion: '2026-07-28' };
  assert.deepEqual(run({ ...modern, mcpMethod: 'tools/call', mcpName: 'slow' }), { path: 'stateless', watchForTask: true });
  assert.deepEqual(run({ ...modern, mcpMethod: 'tasks/get', mcpName: 't-1' }), { path: 'task', taskId: 't-1' });
  assert.deepEqual(run({ ...modern, mcpMethod: 'tasks/get' }), { path: 'stateless', watchForTask: false }, 'no name: no pin');
  // Headers of an older revision are not validated against the body by servers: never routed by.
  assert.deepEqual(run({ protocolVersion: '2025-11-25', mcpMethod: 'tasks/get', mcpName: 't-1', body: peek({ method: 'tasks/get' }) }), {
    path: 'stateless',
    watchForTask: false,
  });
});

test('legacy HTTP+SSE endpoints', () => {
  assert.deepEqual(run({ endpoint: 'legacy-sse', httpMethod: 'GET' }), { path: 'legacy-sse-open' });
  assert.deepEqual(run({ endpoint: 'legacy-messages', legacySessionId: 'abc', body: peek({}) }), { path: 'legacy-sse-message', sessionId: 'abc' });
});

test('protocol version ordering', () => {
  assert.equal(isStatelessVersion('2026-07-28'), true);
  assert.equal(isStatelessVersion('2027-01-01'), true);
  assert.equal(isStatelessVersion('2025-11-25'), false);
  assert.equal(isStatelessVersion('garbage-9999'), false);
  assert.equal(isStatelessVersion(undefined), false);
});

const versions = fc.option(fc.constantFrom('2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28', '2027-03-01', 'x'), { nil: undefined });
const methods = fc.option(fc.constantFrom('initialize', 'tools/call', 'tools/list', 'tasks/get', 'tasks/update', 'tasks/cancel', 'subscriptions/listen', 'x/y'), {
  nil: undefined,
});
const anyInput = fc.record({
  httpMethod: fc.constantFrom('GET', 'POST', 'DELETE'),
  endpoint: fc.constantFrom<Endpoint>('mcp', 'mcp', 'mcp', 'legacy-sse', 'legacy-messages'),
  sessionId: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
  legacySessionId: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
  protocolVersion: versions,
  mcpMethod: methods,
  mcpName: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
  bodyMethod: methods,
  bodyVersion: versions,
});
type Generated = typeof anyInput extends fc.Arbitrary<infer T> ? T : never;

function build(g: Generated) {
  const { bodyMethod, bodyVersion, ...rest } = g;
  const body = g.httpMethod === 'POST' ? peek({ method: bodyMethod, isInitialize: bodyMethod === 'initialize', protocolVersion: bodyVersion }) : undefined;
  return input({ ...rest, body });
}

test('property: headers first; the body is read only when they cannot decide', () => {
  fc.assert(
    fc.property(anyInput, (g) => {
      const { value, calls } = build(g);
      classify(value);
      const modernWithMethod = g.endpoint === 'mcp' && isStatelessVersion(g.protocolVersion) && g.mcpMethod !== undefined;
      if (g.endpoint !== 'mcp' || modernWithMethod || g.httpMethod !== 'POST') assert.equal(calls.peeks, 0, 'no body parse');
      if (g.endpoint === 'mcp' && g.sessionId !== undefined && !isStatelessVersion(g.protocolVersion)) assert.equal(calls.peeks, 0, 'a session routes by header');
      assert.ok(calls.peeks <= 1);
    }),
  );
});

test('property: a session id always routes by session; a sessionless route is kept for the modern era', () => {
  fc.assert(
    fc.property(anyInput, (g) => {
      if (g.endpoint !== 'mcp') return;
      const c = classify(build(g).value);
      const modern = isStatelessVersion(g.protocolVersion);
      if (g.sessionId !== undefined) {
        assert.equal(c.path, 'session');
        assert.equal(c.path === 'session' && c.otherwise !== undefined, modern, 'a fallback exactly for 2026-07-28 and later');
      } else assert.notEqual(c.path, 'session');
      const routed = c.path === 'session' && c.otherwise ? c.otherwise : c;
      if (routed.path === 'initialize') {
        assert.ok(g.httpMethod === 'POST' || g.mcpMethod === 'initialize');
        assert.ok((modern && g.mcpMethod !== undefined ? g.mcpMethod : g.bodyMethod) === 'initialize');
      }
    }),
  );
});

test('property: tasks are pinned only by a 2026-07-28 tasks/* request naming one, and only tools/call is watched', () => {
  fc.assert(
    fc.property(anyInput, (g) => {
      const classified = classify(build(g).value);
      const c = classified.path === 'session' && classified.otherwise ? classified.otherwise : classified;
      if (c.path === 'task') {
        assert.ok(g.endpoint === 'mcp' && isStatelessVersion(g.protocolVersion));
        assert.ok(g.mcpMethod !== undefined && TASK_METHODS.has(g.mcpMethod));
        assert.equal(c.taskId, g.mcpName);
      }
      if (c.path === 'stateless' && c.watchForTask) {
        const method = isStatelessVersion(g.protocolVersion) && g.mcpMethod !== undefined ? g.mcpMethod : g.bodyMethod;
        assert.ok(method !== undefined && TASK_CREATING_METHODS.has(method));
      }
      if (g.endpoint === 'legacy-sse') assert.equal(c.path, 'legacy-sse-open');
      if (g.endpoint === 'legacy-messages') assert.deepEqual(c, { path: 'legacy-sse-message', sessionId: g.legacySessionId });
    }),
  );
});
