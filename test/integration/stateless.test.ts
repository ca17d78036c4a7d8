// The 2026-07-28 path in detail: nothing minted or stored, the request-metadata headers and the backend's own
// answers passed through untouched, labels read from the headers (not the body), listen streams that outlive
// any body timeout and end first on shutdown, and a client that leaves aborting its backend request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeHeaderValue } from '../../gateway/src/mcp/header-values.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { messagesOf, modernMeta, modernPost, MODERN, post } from '../support/raw-mcp.ts';
import { SseReader } from '../support/sse-reader.ts';
import { startTopology, type Topology } from '../support/topology.ts';

type Rpc = { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string } };
const first = async (res: Response) => ((await messagesOf(res)) as Rpc[])[0] as Rpc;

describe('the 2026-07-28 path', () => {
  let topo: Topology;
  let gw: string;
  let backend: string;
  before(async () => {
    topo = await startTopology({
      store: 'memory',
      backends: ['a', 'b'],
      gatewayArgs: ['--upstream-body-timeout', '300ms', '--sse-keepalive', '100ms', '--shutdown-timeout', '30s'],
    });
    gw = topo.entries()[0]!;
    backend = topo.backends[0]!.url;
  });
  after(async () => topo?.stop());

  test('no session id is minted, stored or echoed; requests spread over the replicas', async () => {
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await modernPost(gw, 'tools/call', { name: 'whoami', arguments: {} }, { headers: { 'mcp-session-id': 'ignored-by-2026' } });
      assert.equal(res.headers.get('mcp-session-id'), null);
      const msg = await first(res);
      assert.equal(msg.result?.structuredContent && (msg.result.structuredContent as { sessionId: unknown }).sessionId, null);
      served.add((msg.result?.structuredContent as { replica: string }).replica);
    }
    assert.deepEqual([...served].sort(), ['a', 'b']);
    const backends = await topo.gateways[0]!.admin<Array<{ sessions: number }>>('/backends');
    assert.deepEqual(
      backends.map((b) => b.sessions),
      [0, 0],
      'nothing bound',
    );
  });

  test('Mcp-Method, Mcp-Name (base64 form too) and Mcp-Param-* reach the backend untouched; labels come from them', async () => {
    const encoded = `=?base64?${Buffer.from('echo_headers').toString('base64')}?=`;
    const res = await modernPost(gw, 'tools/call', { name: 'echo_headers', arguments: {} }, { name: encoded, headers: { 'mcp-param-region': 'us-west1' } });
    const seen = ((await first(res)).result?.structuredContent as { headers: Record<string, string> }).headers;
    assert.equal(seen['mcp-method'], 'tools/call');
    assert.equal(seen['mcp-name'], encoded, 'the sentinel form, as sent');
    assert.equal(seen['mcp-param-region'], 'us-west1');
    assert.equal(seen['mcp-protocol-version'], MODERN);

    // A header that disagrees with the body: the backend refuses (-32020); the gateway labelled the request by
    // the header, which shows it never read the body.
    const mismatch = await modernPost(gw, 'tools/call', { name: 'whoami', arguments: {} }, { name: encodeHeaderValue('sleep ') });
    assert.equal(mismatch.status, 400);
    assert.equal((await first(mismatch)).error?.code, -32020);
    const samples = parsePrometheus(await topo.gateways[0]!.metricsText());
    assert.equal(metricSum(samples, 'mcp_gateway_requests_total', { method: 'tools/call', tool: 'echo_headers', status: '200' }), 1);
    assert.equal(metricSum(samples, 'mcp_gateway_requests_total', { method: 'tools/call', tool: 'sleep ', status: '400' }), 1);
  });

  test("a backend's 4xx answers come back exactly as the backend sent them", async () => {
    const cases: Array<[string, () => [string, Record<string, string>]]> = [
      ['header mismatch', () => [JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'whoami', arguments: {}, _meta: modernMeta() } }), { 'mcp-name': 'sleep' }]],
      ['unsupported version', () => [JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: { ...modernMeta(), 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } }), { 'mcp-protocol-version': '2099-01-01' }]],
      ['invalid JSON (the gateway does not parse it here)', () => ['{"jsonrpc":"2.0",', {}]],
      ['unknown method', () => [JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'nope/nothing', params: { _meta: modernMeta() } }), { 'mcp-method': 'nope/nothing' }]],
    ];
    for (const [what, make] of cases) {
      const [body, extra] = make();
      const headers = { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'whoami', ...extra };
      if (extra['mcp-method'] === 'nope/nothing') delete (headers as Record<string, string>)['mcp-name'];
      const [viaGateway, direct] = await Promise.all([post(gw, body, headers), post(backend, body, headers)]);
      assert.ok(direct.status >= 400 && direct.status < 500, `${what}: the backend refuses (${direct.status})`);
      assert.equal(viaGateway.status, direct.status, what);
      assert.deepEqual(JSON.parse(await viaGateway.text()), JSON.parse(await direct.text()), what);
    }
  });

  test('server/discover is forwarded', async () => {
    const msg = await first(await modernPost(gw, 'server/discover'));
    const result = msg.result as { supportedVersions: string[]; capabilities: { extensions?: Record<string, unknown> } };
    assert.ok(result.supportedVersions.includes(MODERN));
    assert.ok(result.capabilities.extensions?.['io.modelcontextprotocol/tasks'], 'the backend advertises the tasks extension');
  });

  test('a client that goes away aborts its backend request', async () => {
    const ac = new AbortController();
    const gone = fetch(gw, {
      method: 'POST',
      signal: ac.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'sleep' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 20_000 }, _meta: modernMeta() } }),
    }).catch(() => undefined);
    const sleeping = async () => {
      const all = await Promise.all(topo.backends.map(async (b) => ((await (await fetch(new URL('/healthz', b.url))).json()) as { sleeping: number }).sleeping));
      return all.reduce((a, n) => a + n, 0);
    };
    for (let i = 0; (await sleeping()) === 0; i++) {
      assert.ok(i < 100, 'the call reached a backend');
      await new Promise((r) => setTimeout(r, 50));
    }
    ac.abort();
    await gone;
    // The backend's call ends long before its 20 s: the gateway aborted the request it was serving.
    for (let i = 0; (await sleeping()) > 0; i++) {
      assert.ok(i < 100, 'the backend request was aborted');
      await new Promise((r) => setTimeout(r, 50));
    }
    const line = await topo.gateways[0]!.service.waitFor((l) => l.msg === 'request' && l.tool === 'sleep' && l.outcome === 'client-closed', 10_000);
    assert.equal(line.route, 'stateless');
  });

  test('subscriptions/listen: no body timeout, and on shutdown it ends as a listening stream', async () => {
    const res = await modernPost(gw, 'subscriptions/listen', { notifications: { toolsListChanged: true } });
    assert.equal(res.status, 200);
    const stream = new SseReader(res);
    await stream.until((r) => r.events.length >= 1);
    assert.equal(stream.messages()[0]?.method, 'notifications/subscriptions/acknowledged');
    // Well past --upstream-body-timeout (300 ms), the stream is still open: keep-alives keep coming.
    await stream.until((r) => r.comments >= 8);
    assert.equal(stream.ended, false);

    const gateway = topo.gateways[0]!;
    gateway.service.proc.kill('SIGTERM');
    await stream.until((r) => r.ended, 10_000);
    assert.equal(stream.failed, undefined, 'ended cleanly, not torn down');
    const shutdown = await gateway.service.waitFor((l) => l.msg === 'shut down', 10_000);
    assert.equal(shutdown.streamsEnded, 1, 'ended with the listening streams, not left to the shutdown timeout');
    assert.equal(await gateway.stop(), 0);
  });
});
