// Metrics, logs and traces after known traffic: exact counts, bounded labels, log lines without secrets,
// spans at an OTLP receiver with the backend continuing the trace.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { metricSum, parsePrometheus, type Sample } from '../support/prom.ts';
import { messagesOf, post, rawCall, rawCallAnswering, rawSession, rpc } from '../support/raw-mcp.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startTopology, type Topology } from '../support/topology.ts';
import { eventually } from '../support/wait.ts';

// A real credential: the gateway runs with API-key auth, so this key is a secret that must never be logged.
const KEY = randomBytes(32).toString('hex');
const TOKEN = `Bearer ${KEY}`;
const COOKIE = 'session=c00kie-never-logged';
const count = (samples: Sample[], labels: Record<string, string>) => metricSum(samples, 'mcp_gateway_requests_total', labels);

describe('metrics and logs after a known mix of traffic', () => {
  let topo: Topology;
  before(async () => {
    // Health probes every hour: the killed backend must be found by the request that hits it, so that the
    // upstream error count is exact. A refused grace of 0 s makes that first refusal the proof of loss
    // (README "Reliability"; the grace itself is tested in test/integration/failover.test.ts).
    topo = await startTopology({
      store: 'memory',
      backends: ['a', 'b'],
      gatewayArgs: ['--health-interval', '1h', '--backend-refused-grace', '0s', '--metrics-tool-limit', '3', '--auth', 'api-key', '--resource-url', 'https://mcp.example.com/mcp', '--rate-limit', '0'],
      gatewayEnv: { AUTH_API_KEYS: `obs sha256:${createHash('sha256').update(KEY).digest('hex')}` },
    });
  });
  after(async () => topo?.stop());

  test('the scraped metrics hold the exact expected counts', async () => {
    const url = topo.entries()[0]!;
    const gw = topo.gateways[0]!;
    const secret = { authorization: TOKEN, cookie: COOKIE };
    // 4 sessions: 4 initialize (200) + 4 notifications/initialized (202); placement spreads them 2/2.
    const sids: string[] = [];
    for (let i = 0; i < 4; i++) sids.push(await rawSession(url, secret));
    const home = new Map<string, string>();
    // 4 tools/call whoami (200)
    for (const sid of sids) home.set(sid, String((await rawCall(url, sid, 'whoami', {}, secret)).result?.replica));
    assert.deepEqual([...home.values()].sort(), ['a', 'a', 'b', 'b']);
    // 2 tools/call ask_model with sampling: each adds one client response POST (202, method "response").
    for (const sid of sids.slice(0, 2)) {
      const r = await rawCallAnswering(url, sid, 'ask_model', { prompt: 'hi' }, () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: 'yo' } }), secret);
      assert.equal(r.answered, 1);
      assert.equal(r.result?.answer, 'yo');
    }
    // Errors: 2 malformed bodies (400, method "other"), 1 unknown session (404, tools/list).
    await post(url, '{oops', secret);
    await post(url, '[', secret);
    assert.equal((await post(url, rpc('tools/list'), { ...secret, 'mcp-session-id': 'unknown-session-id' })).status, 404);
    // Auth failures: 2 without a token, 1 with a key nobody issued (401, before the body is read: method "other").
    const refused: Array<Record<string, string>> = [{}, { cookie: COOKIE }, { authorization: `Bearer ${randomBytes(32).toString('hex')}` }];
    for (const headers of refused) {
      const res = await post(url, rpc('tools/list'), headers);
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
      await res.text();
    }
    // Refusals at the edge, counted and logged like every answer (method "other" unless GET/DELETE): a path
    // with no endpoint (404), a method the endpoint lacks (405), a body that is not JSON (415), a foreign
    // Origin (403).
    const edge: Array<[number, Promise<Response>]> = [
      [404, fetch(new URL('/nowhere', url), { method: 'POST', headers: secret, body: '{}' })],
      [405, fetch(url, { method: 'PUT', headers: { ...secret, 'content-type': 'application/json' }, body: '{}' })],
      [415, fetch(url, { method: 'POST', headers: { ...secret, 'content-type': 'text/plain', accept: 'application/json, text/event-stream' }, body: 'hi' })],
      [403, post(url, rpc('tools/list'), { ...secret, origin: 'http://attacker.example' })],
    ];
    for (const [status, answer] of edge) {
      const res = await answer;
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { jsonrpc: string }).jsonrpc, '2.0', 'JSON-RPC shaped');
    }
    // Kill b; each of its two sessions then answers 404 (the first finds b unreachable: 1 connect error).
    await topo.backends.find((b) => b.name === 'b')!.kill();
    for (const sid of sids.filter((s) => home.get(s) === 'b')) {
      const res = await post(url, rpc('tools/list', {}, 9), { ...secret, 'mcp-session-id': sid });
      assert.equal(res.status, 404);
      assert.equal(((await messagesOf(res))[0] as { id: number }).id, 9);
    }
    // The sessions on a carry on.
    for (const sid of sids.filter((s) => home.get(s) === 'a')) assert.equal((await rawCall(url, sid, 'whoami', {}, secret)).result?.replica, 'a');

    const total = 4 + 4 + 6 + 2 + 2 + 2 + 3 + 3 + 4;
    // The last responses' metrics are recorded when they close: wait for them, not for a while.
    const m = await eventually('every answer counted', async () => {
      const samples = parsePrometheus(await gw.metricsText());
      return count(samples, {}) >= total ? samples : undefined;
    });
    const bId = topo.backends.find((b) => b.name === 'b')!.url;
    const aId = topo.backends.find((b) => b.name === 'a')!.url;
    assert.equal(count(m, { method: 'initialize', status: '200' }), 4);
    assert.equal(count(m, { method: 'notifications/initialized', status: '202' }), 4);
    assert.equal(count(m, { method: 'tools/call', tool: 'whoami', status: '200' }), 6);
    assert.equal(count(m, { method: 'tools/call', tool: 'ask_model', status: '200' }), 2);
    assert.equal(count(m, { method: 'response', status: '202' }), 2);
    assert.equal(count(m, { method: 'other', status: '400' }), 2);
    assert.equal(count(m, { method: 'other', status: '401' }), 3, 'auth refusals counted once');
    for (const status of ['404', '405', '415', '403']) assert.equal(count(m, { method: 'other', status }), 1, `the edge's ${status}`);
    assert.equal(metricSum(m, 'mcp_gateway_auth_failures_total', { reason: 'missing_token' }), 2);
    assert.equal(metricSum(m, 'mcp_gateway_auth_failures_total', { reason: 'unknown_api_key' }), 1);
    assert.equal(metricSum(m, 'mcp_gateway_auth_failures_total'), 3);
    assert.equal(count(m, { method: 'tools/list', status: '404' }), 3);
    assert.equal(count(m, {}), total);
    assert.equal(metricSum(m, 'mcp_gateway_request_duration_seconds_count', { method: 'initialize' }), 4);
    assert.equal(metricSum(m, 'mcp_gateway_sessions_created_total', { backend: aId }), 2);
    assert.equal(metricSum(m, 'mcp_gateway_sessions_created_total', { backend: bId }), 2);
    assert.equal(metricSum(m, 'mcp_gateway_sessions_lost_total', { reason: 'backend_down' }), 2);
    assert.equal(metricSum(m, 'mcp_gateway_session_misses_total'), 1 + 1, 'the made-up id, and the second session of b once b was unbound');
    assert.equal(metricSum(m, 'mcp_gateway_sessions_lost_total', { reason: 'principal_mismatch' }), 0, 'series exists at 0');
    assert.equal(metricSum(m, 'mcp_gateway_upstream_errors_total', { backend: bId, kind: 'connect' }), 1);
    assert.equal(metricSum(m, 'mcp_gateway_upstream_errors_total', { backend: aId }), 0);
    assert.equal(metricSum(m, 'mcp_gateway_backend_up', { backend: aId }), 1);
    assert.equal(metricSum(m, 'mcp_gateway_backend_up', { backend: bId }), 0);
    assert.equal(metricSum(m, 'mcp_gateway_backend_state', { backend: bId, state: 'lost' }), 1);
    assert.equal(metricSum(m, 'mcp_gateway_backend_ejections_total', { backend: bId, cause: 'connect-refused' }), 1);
    assert.equal(metricSum(m, 'mcp_gateway_sessions_active', { backend: aId }), 2);
    assert.equal(metricSum(m, 'mcp_gateway_streams_open'), 0);
    assert.ok(metricSum(m, 'process_resident_memory_bytes') > 0, 'process metrics are included');

    // One JSON log line per request, with the fields operators search by, and no secret anywhere.
    const requests = await eventually('one log line per answer', () => {
      const lines = gw.service.lines.filter((l) => l.startsWith('{'));
      const found = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
      return found.length >= total ? found : undefined;
    });
    assert.equal(requests.length, total);
    assert.deepEqual(
      requests.filter((r) => [403, 404, 405, 415].includes(r.status as number)).map((r) => r.status).sort(),
      [403, 404, 404, 404, 404, 405, 415],
      'edge refusals logged (with the three 404s of sessions)',
    );
    assert.equal(requests.filter((r) => r.status === 401 && r.auth !== undefined).length, 3, 'auth refusals logged once, with their reason');
    for (const r of requests) {
      for (const field of ['reqId', 'http', 'status', 'ms', 'level', 'time']) assert.ok(r[field] !== undefined, `${field} in ${JSON.stringify(r)}`);
    }
    const call = requests.find((r) => r.tool === 'ask_model')!;
    assert.equal(call.method, 'tools/call');
    assert.equal(call.backend, home.get(sids[0]!) === 'a' ? aId : bId);
    assert.match(String(call.session), /^[0-9a-f-]{8}…$/);
    const all = gw.service.lines.join('\n');
    for (const secretText of [KEY, 'c00kie-never-logged', ...sids]) {
      assert.ok(!all.includes(secretText), `"${secretText.slice(0, 12)}…" must not be logged`);
    }
  });

  test('a thousand made-up tool names do not make a thousand label values', async () => {
    const url = topo.entries()[0]!;
    const auth = { authorization: TOKEN };
    const sid = (await rawSession(url, auth)).toString();
    // Listing teaches the gateway the backend's real names.
    assert.equal((await post(url, rpc('tools/list', {}, 2), { ...auth, 'mcp-session-id': sid })).status, 200);
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          post(url, rpc('tools/call', { name: `made-up-${batch * 50 + i}`, arguments: {} }, i), { ...auth, 'mcp-session-id': sid }).then((r) => r.text()),
        ),
      );
    }
    await rawCall(url, sid, 'echo_headers', {}, auth);
    const m = parsePrometheus(await topo.gateways[0]!.metricsText());
    const tools = new Set(m.filter((s) => s.name === 'mcp_gateway_requests_total' && s.labels.method === 'tools/call').map((s) => s.labels.tool));
    assert.ok(tools.has('echo_headers'), 'a listed tool keeps its name');
    assert.ok(tools.has('other'));
    const madeUp = [...tools].filter((t) => t?.startsWith('made-up-'));
    assert.ok(madeUp.length <= 3, `at most --metrics-tool-limit made-up names: ${madeUp.join(', ')}`);
    assert.ok(tools.size <= 12, `bounded: ${[...tools].join(', ')}`);
  });
});

describe('traces', () => {
  let topo: Topology;
  let otlp: OtlpReceiver;
  before(async () => {
    otlp = await startOtlpReceiver();
    topo = await startTopology({ store: 'memory', backends: ['a'], gatewayArgs: ['--tracing', '--otlp-endpoint', otlp.endpoint, '--service-name', 'gw-under-test'] });
  });
  after(async () => {
    await topo?.stop();
    await otlp?.close();
  });

  test('spans reach the OTLP receiver and the backend continues the trace via traceparent', async () => {
    const url = topo.entries()[0]!;
    const sid = await rawSession(url);
    const parentTrace = '0af7651916cd43dd8448eb211c80319c';
    const echoed = await rawCall(url, sid, 'echo_headers', {}, { traceparent: `00-${parentTrace}-b7ad6b7169203331-01` });
    const headers = echoed.result?.headers as Record<string, string>;
    const traceparent = headers.traceparent;
    assert.match(traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'the backend received a traceparent');
    const [, traceId, backendParent] = traceparent!.split('-');
    assert.equal(traceId, parentTrace, "the client's trace is continued");

    let server, client;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      server = otlp.spans.find((s) => s.name === 'tools/call echo_headers' && s.traceId === parentTrace && s.kind === 2);
      client = otlp.spans.find((s) => s.spanId === backendParent);
      if (server && client) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(server, `SERVER span for tools/call; got ${otlp.spans.map((s) => s.name).join(', ')}`);
    assert.ok(client, 'CLIENT span whose id the backend saw as its parent');
    assert.equal(client!.kind, 3);
    assert.equal(client!.parentSpanId, server!.spanId, 'CLIENT span is a child of the SERVER span');
    assert.equal(server!.parentSpanId, 'b7ad6b7169203331', "SERVER span's parent is the client's span");
    assert.equal(server!.service, 'gw-under-test');
    assert.equal(server!.attributes['mcp.method.name'], 'tools/call');
    assert.equal(server!.attributes['gen_ai.tool.name'], 'echo_headers');
    assert.equal(server!.attributes['http.response.status_code'], 200);
    assert.equal(server!.attributes['mcp.session.id'], `${sid.slice(0, 8)}…`, 'session id shortened');
    assert.equal(server!.attributes['jsonrpc.request.id'], '7');
    assert.ok(otlp.spans.some((s) => s.name === 'initialize' && s.attributes['mcp.protocol.version'] === '2025-11-25'));
    assert.ok(otlp.contentTypes.every((c) => c.startsWith('application/json')));
  });
});
