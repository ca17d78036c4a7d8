// The 2024-11-05 endpoint URI is opaque: configured paths are used exactly as written (a backend that serves
// only `/messages/` keeps its slash end to end), and a stream the gateway cannot carry is ended with a warning
// that says why, not logged as the client's doing. Real demo backends (official TypeScript SDK) and gateways.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBackend, type BackendProcess } from '../support/backends.ts';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { rpc } from '../support/raw-mcp.ts';
import { SseReader } from '../support/sse-reader.ts';

const postMessage = (url: string, body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
const init = (id: number) => rpc('initialize', { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw-sse', version: '1' } }, id);

describe('legacy endpoint URIs and paths', () => {
  let slash: BackendProcess;
  let other: BackendProcess;
  let gwSlash: GatewayProcess;
  let gwOther: GatewayProcess;
  before(async () => {
    // The demo backend serves its messages at exactly --messages-path: `/messages/` answers, `/messages` 404s.
    [slash, other] = await Promise.all([startBackend('slash', 'demo/backend.ts', ['--messages-path', '/messages/']), startBackend('other', 'demo/backend.ts', ['--messages-path', '/rpc'])]);
    [gwSlash, gwOther] = await Promise.all([
      startGateway({ backends: [slash.url], args: ['--messages-path', '/messages/', '--sse-keepalive', '0s'] }),
      startGateway({ backends: [other.url], args: ['--sse-keepalive', '0s'] }),
    ]);
  });
  after(async () => {
    await Promise.allSettled([gwSlash?.stop(), gwOther?.stop()]);
    await Promise.allSettled([slash?.stop(), other?.stop()]);
  });

  test('--messages-path /messages/ keeps its slash: the URI is relayed as advertised and each POST lands there', async () => {
    const ac = new AbortController();
    try {
      const res = await fetch(new URL('/sse', gwSlash.mcpUrl), { headers: { accept: 'text/event-stream' }, signal: ac.signal });
      assert.equal(res.status, 200);
      const stream = new SseReader(res);
      await stream.until((r) => r.events.length >= 1);
      const endpoint = stream.events[0]!;
      assert.match(endpoint.data, /^\/messages\/\?sessionId=[0-9a-f-]{36}$/);
      const accepted = await postMessage(new URL(endpoint.data, gwSlash.mcpUrl).href, init(1));
      assert.equal(accepted.status, 202, 'the backend took the POST at /messages/ (it 404s /messages)');
      await stream.until((r) => r.messages().some((m) => m.id === 1));
      assert.equal(gwSlash.service.lines.filter((l) => l.includes('another messages path')).length, 0, 'no warning about a path that matches');
    } finally {
      ac.abort();
    }
  });

  test('every URI layout a server may advertise is routed, and its session looked up (unknown: 404 -32001)', async () => {
    const unknown = '0123456789abcdef0123456789abcdef';
    for (const uri of [`/messages?sessionId=${unknown}`, `/messages/?session_id=${unknown}`, `/sse?sessionid=${unknown}`, `/messages/${unknown}`]) {
      const res = await postMessage(new URL(uri, gwOther.mcpUrl).href, rpc('ping', {}, 'p'));
      assert.equal(res.status, 404, uri);
      assert.deepEqual(((await res.json()) as { error: { code: number } }).error.code, -32001, `${uri}: a session the gateway looked for, not an unknown route`);
    }
    const ambiguous = await postMessage(new URL(`/messages?sessionId=a&session_id=b`, gwOther.mcpUrl).href, rpc('ping', {}, 'p'));
    assert.equal(ambiguous.status, 400);
  });

  test('an endpoint outside the gateway routes: the stream is ended, with a warning that says why', async () => {
    const res = await fetch(new URL('/sse', gwOther.mcpUrl), { headers: { accept: 'text/event-stream' } });
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), 'the gateway cut the stream rather than relay an endpoint it cannot carry');
    const warn = await gwOther.service.waitFor((l) => l.msg === 'ended a legacy HTTP+SSE stream: the gateway cannot carry it', 20_000);
    assert.equal(warn.level, 'warn');
    assert.match(String(warn.reason), /advertises \/rpc, outside --sse-path and --messages-path/);
    const access = await gwOther.service.waitFor((l) => l.msg === 'request' && l.route === 'legacy-sse-open');
    assert.equal(access.outcome, 'endpoint-refused', 'the access line names the refusal, not client-closed');
  });
});
