// DNS-rebinding protection (MCP Streamable HTTP "Security & Endpoint"): a request naming a Host or Origin
// outside the allow-lists gets 403 with a JSON-RPC error without id, before auth or any backend.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { rpc } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';

/** A POST with full control of Host and Origin (fetch does not let a caller set Host). */
function postWith(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const body = rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'o', version: '1' } });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('Host and Origin on a gateway listening on loopback (the default policy)', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({ store: 'memory', backends: ['a'] });
  });
  after(async () => topo?.stop());

  test('loopback names and origins pass; others get 403 without reaching a backend', async () => {
    const url = topo.entries()[0]!;
    const port = new URL(url).port;
    assert.equal((await postWith(url, { host: `localhost:${port}` })).status, 200);
    assert.equal((await postWith(url, { host: `127.0.0.1:${port}`, origin: 'http://localhost:5173' })).status, 200);
    const bads: Array<Record<string, string>> = [{ host: `attacker.example:${port}` }, { host: `127.0.0.1:${port}`, origin: 'http://attacker.example' }, { host: `127.0.0.1:${port}`, origin: 'null' }];
    for (const bad of bads) {
      const r = await postWith(url, bad);
      assert.equal(r.status, 403, JSON.stringify(bad));
      const body = JSON.parse(r.body) as { id: unknown; error: { code: number } };
      assert.equal(body.id, null, 'a JSON-RPC error without id, as the spec allows');
      assert.equal(body.error.code, -32000);
    }
    const m = parsePrometheus(await topo.gateways[0]!.metricsText());
    assert.equal(metricSum(m, 'mcp_gateway_limit_rejections_total', { limit: 'origin' }), 3);
    assert.equal(metricSum(m, 'mcp_gateway_sessions_created_total'), 2, 'only the allowed requests reached the backend');
  });
});

describe('explicit allow-lists', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({ store: 'memory', backends: ['a'], gatewayArgs: ['--allowed-hosts', 'mcp.example.com', '--allowed-origins', 'https://app.example.com'] });
  });
  after(async () => topo?.stop());

  test('only the listed host and origin pass', async () => {
    const url = topo.entries()[0]!;
    assert.equal((await postWith(url, { host: 'mcp.example.com', origin: 'https://app.example.com' })).status, 200);
    assert.equal((await postWith(url, { host: 'mcp.example.com' })).status, 200, 'no Origin (not a browser): passes');
    assert.equal((await postWith(url, { host: 'localhost' })).status, 403, 'the listed host only');
    assert.equal((await postWith(url, { host: 'mcp.example.com', origin: 'https://evil.example.com' })).status, 403);
  });
});
