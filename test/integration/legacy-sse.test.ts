// The 2024-11-05 HTTP+SSE transport on the wire, through two gateway replicas (Redis): the endpoint event
// leads back to the gateway, messages reach the stream's replica from either gateway replica, unknown or
// ended sessions answer 404 JSON-RPC, and a closed stream unbinds its session everywhere.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { rpc } from '../support/raw-mcp.ts';
import { SseReader } from '../support/sse-reader.ts';
import { startTopology, type Topology } from '../support/topology.ts';

const postMessage = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('legacy HTTP+SSE (2024-11-05) through the gateway', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({ store: 'redis', gatewayArgs: ['--sse-keepalive', '0s'] });
  });
  after(async () => topo?.stop());

  async function openStream(entry: string) {
    const ac = new AbortController();
    const res = await fetch(new URL('/sse', entry), { headers: { accept: 'text/event-stream' }, signal: ac.signal });
    assert.equal(res.status, 200);
    const stream = new SseReader(res);
    await stream.until((r) => r.events.length >= 1);
    const endpoint = stream.events[0]!;
    return { stream, endpoint, close: () => ac.abort() };
  }

  test('the endpoint event leads back to the gateway; messages reach the stream from either replica', async () => {
    const [gw1, gw2] = topo.entries() as [string, string];
    const { stream, endpoint, close } = await openStream(gw1);
    try {
      assert.equal(endpoint.event, 'endpoint');
      assert.match(endpoint.data, /^\/messages\?sessionId=[0-9a-f-]{36}$/, 'relative, the gateway messages path, the query kept');
      // Through the other gateway replica: accepted there, answered on the stream held by the first.
      const init = await postMessage(new URL(endpoint.data, gw2).href, rpc('initialize', { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw-sse', version: '1' } }, 1));
      assert.equal(init.status, 202);
      await postMessage(new URL(endpoint.data, gw2).href, rpc('notifications/initialized', {}, null));
      const who = await postMessage(new URL(endpoint.data, gw1).href, rpc('tools/call', { name: 'whoami', arguments: {} }, 2));
      assert.equal(who.status, 202);
      await stream.until((r) => r.messages().some((m) => m.id === 2));
      const initResult = stream.messages().find((m) => m.id === 1) as { result: { protocolVersion: string } };
      assert.equal(initResult.result.protocolVersion, '2024-11-05');
      assert.ok(stream.events.slice(1).every((e) => e.event === 'message'), 'the rest of the stream passes as the backend sent it');
    } finally {
      close();
    }
  });

  test('an unknown session, or none, is a JSON-RPC error', async () => {
    const [gw1] = topo.entries() as [string];
    const unknown = await postMessage(new URL('/messages?sessionId=00000000-0000-0000-0000-000000000000', gw1).href, rpc('ping', {}, 'p1'));
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { jsonrpc: '2.0', id: 'p1', error: { code: -32001, message: 'Session not found', data: { reason: 'session_not_found' } } });
    const missing = await postMessage(new URL('/messages', gw1).href, rpc('ping', {}, 'p2'));
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { id: unknown }).id, 'p2');
    // The stream's path takes message POSTs too (the Go SDK's layout), with a session in the URI only.
    const noSession = await postMessage(new URL('/sse', gw1).href, rpc('ping', {}, 'p3'));
    assert.equal(noSession.status, 400);
    const wrongMethod = await fetch(new URL('/sse', gw1), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET, POST');
  });

  test('a closed stream unbinds its session for every gateway replica', async () => {
    const [gw1, gw2] = topo.entries() as [string, string];
    const { endpoint, close } = await openStream(gw2);
    const target = new URL(endpoint.data, gw1).href;
    const before = await postMessage(target, rpc('initialize', { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw-sse', version: '1' } }, 1));
    assert.equal(before.status, 202);
    close();
    let status = 0;
    for (let i = 0; i < 100 && status !== 404; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await postMessage(target, rpc('ping', {}, 3))).status;
    }
    assert.equal(status, 404, 'after the stream closed, its session is gone');
    const samples = parsePrometheus(await topo.gateways[1]!.metricsText());
    assert.ok(metricSum(samples, 'mcp_gateway_sessions_created_total') >= 1, 'the stream counted as a session');
  });
});
