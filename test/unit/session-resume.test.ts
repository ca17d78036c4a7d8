// The pure parts of --session-resume (issue 16): what may be sent twice, what is recorded for a resume and
// how it is bounded, the store's claim and rebind (in-memory store), and the Redis wire form of the new fields.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mayResend, READ_ONLY_METHODS, ToolReplaySafety } from '../../gateway/src/routing/session-resume-policy.ts';
import { initParamsOf, MAX_INIT_BYTES, MAX_REPLAY_ENTRIES, stateRequestOf, withStateRequest } from '../../gateway/src/routing/session-resume-state.ts';
import { MemorySessionStore } from '../../gateway/src/sessions/memory.ts';
import { decodeRecord, encodeRecord } from '../../gateway/src/sessions/record-codec.ts';
import type { SessionRecord } from '../../gateway/src/sessions/store.ts';

const toolsList = (tools: unknown[]) => JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools } });

describe('replay safety', () => {
  test('read-only methods may be sent again; anything else only when a backend declared the tool safe', () => {
    const tools = new ToolReplaySafety();
    for (const m of READ_ONLY_METHODS) assert.equal(mayResend(m, undefined, tools), true, m);
    for (const m of ['tools/call', 'resources/subscribe', 'logging/setLevel', 'sampling/createMessage', 'bogus', undefined]) {
      assert.equal(mayResend(m, 'x', tools), false, String(m));
    }
    tools.learnFromToolsList(
      toolsList([
        { name: 'read', annotations: { readOnlyHint: true } },
        { name: 'idem', annotations: { idempotentHint: true } },
        { name: 'write', annotations: { readOnlyHint: false, idempotentHint: false } },
        { name: 'plain' },
        { name: 'truthy', annotations: { readOnlyHint: 'yes' } },
      ]),
    );
    assert.equal(mayResend('tools/call', 'read', tools), true);
    assert.equal(mayResend('tools/call', 'idem', tools), true);
    for (const t of ['write', 'plain', 'truthy', 'unknown', undefined]) assert.equal(mayResend('tools/call', t, tools), false, String(t));
    assert.equal(mayResend('tools/call', 'read', undefined), false, 'nothing learned: nothing resent');
  });

  test('the last tools/list answer wins, and SSE answers are read too', () => {
    const tools = new ToolReplaySafety();
    tools.learnFromToolsList(`id: 1\nevent: message\ndata: ${toolsList([{ name: 'flip', annotations: { readOnlyHint: true } }])}\n\n`);
    assert.equal(tools.isSafe('flip'), true);
    tools.learnFromToolsList(toolsList([{ name: 'flip', annotations: { readOnlyHint: false } }]));
    assert.equal(tools.isSafe('flip'), false, 'a tool that stopped declaring the hint is not resent any more');
    tools.learnFromToolsList('not json at all');
    assert.equal(tools.isSafe('flip'), false);
  });
});

describe('what a resume records', () => {
  const init = (params: unknown) => Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params }));

  test('initialize params are kept when small, never when too large or not initialize', () => {
    const params = { protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'c', version: '1' } };
    assert.deepEqual(JSON.parse(initParamsOf(init(params)) as string), params);
    assert.equal(initParamsOf(init({ ...params, clientInfo: { name: 'x'.repeat(MAX_INIT_BYTES), version: '1' } })), undefined);
    assert.equal(initParamsOf(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }))), undefined);
    assert.equal(initParamsOf(Buffer.from('{')), undefined);
    assert.equal(initParamsOf(undefined), undefined);
  });

  test('state-setting requests: a new level replaces the old, unsubscribe cancels subscribe, bounded', () => {
    const base: SessionRecord = { backend: 'a', kind: 'streamable', createdAt: 1, init: '{}' };
    const req = (method: string, params: unknown) => stateRequestOf(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 3, method, params })), method);
    assert.equal(req('tools/call', { name: 'x' }), undefined, 'only the listed methods are recorded');
    let r = withStateRequest(base, req('logging/setLevel', { level: 'debug' })!)!;
    r = withStateRequest(r, req('resources/subscribe', { uri: 'demo://a' })!)!;
    assert.equal(withStateRequest(r, req('resources/subscribe', { uri: 'demo://a' })!), undefined, 'a repeated subscribe is kept once');
    r = withStateRequest(r, req('logging/setLevel', { level: 'error' })!)!;
    assert.deepEqual(
      r.replay?.map((e) => [e.method, JSON.parse(e.params)]),
      [
        ['logging/setLevel', { level: 'error' }],
        ['resources/subscribe', { uri: 'demo://a' }],
      ],
    );
    r = withStateRequest(r, req('resources/unsubscribe', { uri: 'demo://a' })!)!;
    assert.deepEqual(r.replay?.map((e) => e.method), ['logging/setLevel']);
    assert.equal(withStateRequest(r, req('resources/unsubscribe', { uri: 'demo://never' })!), undefined);
    for (let i = 0; i < MAX_REPLAY_ENTRIES + 10; i++) r = withStateRequest(r, req('resources/subscribe', { uri: `demo://${i}` })!) ?? r;
    assert.equal(r.replay?.length, MAX_REPLAY_ENTRIES, 'no more than the bound is kept');
    assert.equal(base.replay, undefined, 'records are not changed in place');
  });
});

describe('the store side of a resume (in-memory store)', () => {
  test('one claim at a time, until released or expired; replace moves the binding between backends', async () => {
    let now = 1_000;
    const store = new MemorySessionStore({ ttlMs: 60_000, maxSessions: 10, now: () => now });
    try {
      await store.bind('s1', { backend: 'a', kind: 'streamable', createdAt: 1, init: '{}' });
      assert.equal(await store.claimResume('s1', 5_000), true);
      assert.equal(await store.claimResume('s1', 5_000), false, 'a second claim loses');
      now += 5_001;
      assert.equal(await store.claimResume('s1', 5_000), true, 'an abandoned claim expires');
      const moved: SessionRecord = { backend: 'b', kind: 'streamable', createdAt: now, init: '{}', upstreamId: 'up-1', resumes: 1 };
      assert.equal(await store.replace('s1', moved, 'a'), true);
      assert.deepEqual(await store.get('s1'), moved);
      assert.deepEqual(await store.sessionsOf('a'), []);
      assert.deepEqual(await store.sessionsOf('b'), ['s1']);
      assert.equal(await store.claimResume('s1', 5_000), true, 'replace dropped the claim');
      await store.releaseClaim('s1');
      assert.equal(await store.replace('gone', moved, 'a'), false, 'an unbound session is not brought back');
    } finally {
      await store.close();
    }
  });

  test('the Redis wire form carries the resume fields, and leaves them out when unused', () => {
    const plain: SessionRecord = { backend: 'a', kind: 'streamable', createdAt: 5 };
    assert.equal(encodeRecord(plain), '{"b":"a","k":"streamable","c":5}', 'a session never resumed costs nothing extra');
    const full: SessionRecord = {
      ...plain,
      upstreamId: 'up',
      init: '{"protocolVersion":"2025-11-25"}',
      replay: [{ method: 'logging/setLevel', params: '{"level":"info"}' }],
      resumes: 2,
    };
    assert.deepEqual(decodeRecord(encodeRecord(full)), full);
  });
});
