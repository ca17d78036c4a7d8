import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { GatewayError } from '../../gateway/src/errors.ts';
import { peekJsonRpc } from '../../gateway/src/mcp/jsonrpc.ts';

const b = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

test('reads method, tool, id and the initialize protocol version', () => {
  const init = peekJsonRpc(b({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18' } }));
  assert.deepEqual([init.isInitialize, init.protocolVersion, init.id, init.method], [true, '2025-06-18', 1, 'initialize']);
  const call = peekJsonRpc(b({ jsonrpc: '2.0', id: 'x', method: 'tools/call', params: { name: 'search', arguments: {} } }));
  assert.deepEqual([call.method, call.name, call.isInitialize, call.requests], ['tools/call', 'search', false, 1]);
  const modern = peekJsonRpc(b({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } }));
  assert.equal(modern.protocolVersion, '2026-07-28');
  const resp = peekJsonRpc(b({ jsonrpc: '2.0', id: 5, result: {} }));
  assert.deepEqual([resp.method, resp.requests], [undefined, 0]);
  const note = peekJsonRpc(b({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  assert.deepEqual([note.method, note.requests, note.id], ['notifications/initialized', 0, undefined]);
});

test('a notification called initialize is not an initialize request', () => {
  assert.equal(peekJsonRpc(b({ jsonrpc: '2.0', method: 'initialize' })).isInitialize, false);
});

test('malformed bodies are parse errors (-32700), wrong shapes invalid requests (-32600) keeping the id', () => {
  for (const bad of ['{', '', 'nul', '{"a":1', '\u0000']) {
    assert.throws(() => peekJsonRpc(b(bad)), (e: unknown) => e instanceof GatewayError && e.code === 'PARSE_ERROR');
  }
  assert.throws(() => peekJsonRpc(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), (e: unknown) => e instanceof GatewayError && e.code === 'PARSE_ERROR', 'invalid UTF-8');
  for (const bad of [[], {}, 1, '"x"', 'null', { jsonrpc: '1.0', id: 1, method: 'x' }, { jsonrpc: '2.0', id: {}, method: 'x' }, [{ jsonrpc: '2.0', id: 1, method: 'a' }, 3]]) {
    assert.throws(() => peekJsonRpc(b(bad)), (e: unknown) => e instanceof GatewayError && e.code === 'INVALID_REQUEST');
  }
  assert.throws(() => peekJsonRpc(b({ jsonrpc: '1.0', id: 77, method: 'x' })), (e: unknown) => e instanceof GatewayError && e.rpcId === 77);
});

test('property: any byte string either peeks or fails with a 400 GatewayError, never anything else', () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.json().map((j) => new TextEncoder().encode(j))), (bytes) => {
      try {
        const p = peekJsonRpc(Buffer.from(bytes));
        assert.ok(p.requests >= 0);
      } catch (err) {
        assert.ok(err instanceof GatewayError, String(err));
        assert.equal(err.status, 400);
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: a well-formed request peeks to its own method, id and tool name', () => {
  const id = fc.oneof(fc.string(), fc.integer());
  fc.assert(
    fc.property(id, fc.string({ minLength: 1 }), fc.string(), fc.boolean(), (rid, method, name, batch) => {
      const msg = { jsonrpc: '2.0', id: rid, method, params: { name } };
      const p = peekJsonRpc(b(batch ? [msg] : msg));
      assert.deepEqual([p.method, p.id, p.name, p.batch, p.isInitialize], [method, rid, name, batch, method === 'initialize']);
    }),
  );
});

test('deep nesting is refused before parsing, strings do not count', async () => {
  const { nestsDeeperThan, MAX_JSON_DEPTH } = await import('../../gateway/src/mcp/jsonrpc.ts');
  const deep = Buffer.from('['.repeat(200_000) + ']'.repeat(200_000));
  assert.throws(() => peekJsonRpc(deep), (e: unknown) => e instanceof GatewayError && e.code === 'INVALID_REQUEST' && e.status === 400);
  const ok = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 't', arguments: { s: '[[[[[[[[' + '{'.repeat(500) } } };
  assert.equal(peekJsonRpc(b(ok)).method, 'tools/call');
  assert.equal(nestsDeeperThan(Buffer.from('{"a":"\\"[[["}'), 1), false);
  fc.assert(
    fc.property(fc.nat({ max: 300 }), (n) => {
      assert.equal(nestsDeeperThan(Buffer.from('['.repeat(n) + ']'.repeat(n)), MAX_JSON_DEPTH), n > MAX_JSON_DEPTH);
    }),
  );
});
