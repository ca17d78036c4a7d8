// Bad input gets a spec-shaped JSON-RPC error with the right HTTP status, and the gateway keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MCP_HEADERS, post, rawCall, rawSession, rpc } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';

interface RpcError {
  jsonrpc: string;
  id: unknown;
  error: { code: number; message: string };
}

async function expectError(res: Response, status: number, code: number, id: unknown = null): Promise<RpcError> {
  assert.equal(res.status, status, `status ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await res.json()) as RpcError;
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.error.code, code);
  assert.equal(body.id, id);
  assert.ok(!/\bat .*\.ts:\d+/.test(body.error.message), 'no stack trace');
  return body;
}

describe('bad input at the MCP edge', () => {
  let topo: Topology;
  let url: string;
  before(async () => {
    topo = await startTopology({ store: 'memory', backends: ['a'], gatewayArgs: ['--max-body-bytes', '2048'] });
    url = topo.entries()[0]!;
  });
  after(async () => topo?.stop());

  test('malformed JSON: 400, -32700', async () => {
    await expectError(await post(url, '{"jsonrpc":"2.0",'), 400, -32700);
    await expectError(await post(url, Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) as unknown as string), 400, -32700);
  });

  test('not JSON-RPC: 400, -32600, echoing the id when there is one', async () => {
    await expectError(await post(url, '{"jsonrpc":"1.0","id":12,"method":"x"}'), 400, -32600, 12);
    await expectError(await post(url, '[]'), 400, -32600);
  });

  test('a body over the limit: 413', async () => {
    const big = rpc('tools/call', { name: 'x', arguments: { pad: 'y'.repeat(4096) } });
    await expectError(await post(url, big), 413, -32000);
  });

  test('an unknown session: 404, -32001, with the request id', async () => {
    const res = await post(url, rpc('tools/list', {}, 'req-9'), { 'mcp-session-id': 'no-such-session' });
    const body = await expectError(res, 404, -32001, 'req-9');
    assert.equal(body.error.message, 'Session not found');
  });

  test('an invalid session id: 400', async () => {
    const res = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': 'bad\u00e9id' }, body: rpc('ping') });
    await expectError(res, 400, -32000);
  });

  test('an unsupported method: 405 with Allow', async () => {
    const res = await fetch(url, { method: 'PUT', headers: MCP_HEADERS, body: rpc('ping') });
    await expectError(res, 405, -32000);
    assert.equal(res.headers.get('allow'), 'GET, POST, DELETE');
  });

  test('a wrong content type: 415', async () => {
    await expectError(await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain', accept: MCP_HEADERS.accept }, body: rpc('ping') }), 415, -32000);
  });

  test('an Accept header without both types: 406', async () => {
    await expectError(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: rpc('ping', {}, 4) }), 406, -32000, 4);
    await expectError(await fetch(url, { headers: { accept: 'application/json', 'mcp-session-id': 'x' } }), 406, -32000);
  });

  test('another path on the MCP port: 404 JSON-RPC, and no admin endpoints there', async () => {
    await expectError(await fetch(url.replace('/mcp', '/elsewhere')), 404, -32000);
    await expectError(await fetch(url.replace('/mcp', '/metrics')), 404, -32000);
  });

  test('after all of that, the gateway still serves sessions', async () => {
    const sid = await rawSession(url);
    const r = await rawCall(url, sid, 'whoami');
    assert.equal(r.status, 200);
    assert.equal(r.result?.replica, 'a');
    assert.equal(topo.gateways[0]!.service.exited, false);
    const trouble = topo.gateways[0]!.service.lines.filter((l) => l.includes('"level":"fatal"') || l.startsWith('[stderr]'));
    assert.deepEqual(trouble, [], 'no crash, no warning');
  });
});
