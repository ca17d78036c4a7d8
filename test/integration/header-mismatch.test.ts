// MCP 2026-07-28 Streamable HTTP, "Server Validation", through a real gateway and demo backend: where the
// gateway reads the body anyway, request-metadata headers that disagree with it (or repeat) are answered 400
// with HeaderMismatch (-32020) and never forwarded; matching ones pass unchanged.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { MCP_HEADERS } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';

const V = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const call = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 'c1', method: 'tools/call', params: { name, arguments: {}, _meta: meta } });

/** node:http, so that a header can be sent twice (fetch joins repetitions into one line). */
function send(url: string, headers: Record<string, string | string[]>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('2026-07-28 header/body agreement at the gateway', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({ store: 'memory', backends: ['a'] });
  });
  after(async () => topo?.stop());

  test('Mcp-Name that disagrees with the body it had to read: 400 HeaderMismatch with the id', async () => {
    // Without Mcp-Method the gateway reads the body to classify the request, and so must check it.
    const res = await send(topo.entries()[0]!, { 'mcp-name': 'echo' }, call('whoami'));
    assert.equal(res.status, 400);
    const body = JSON.parse(res.body) as { id: unknown; error: { code: number; message: string } };
    assert.equal(body.id, 'c1');
    assert.equal(body.error.code, -32020);
    assert.equal(body.error.message, "Header mismatch: Mcp-Name header value 'echo' does not match body value 'whoami'");
  });

  test('a repeated Mcp-Method is refused, even where the headers alone would route', async () => {
    const res = await send(topo.entries()[0]!, { 'mcp-method': ['tools/call', 'tools/list'], 'mcp-name': 'whoami' }, call('whoami'));
    assert.equal(res.status, 400);
    assert.equal((JSON.parse(res.body) as { error: { code: number } }).error.code, -32020);
  });

  test('headers that agree reach the backend as sent', async () => {
    const res = await send(topo.entries()[0]!, { 'mcp-method': 'tools/call', 'mcp-name': 'whoami' }, call('whoami'));
    assert.equal(res.status, 200, res.body);
  });
});
