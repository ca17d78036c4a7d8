// Limits on the connection itself, probed with raw sockets the way an attacker would: oversized and too many
// headers, headers and bodies sent too slowly, too many connections. Each gets a JSON-RPC error with the
// right status (or a closed connection), is counted, and the gateway keeps serving.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { rawCall, rawSession } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';
import { eventually } from '../support/wait.ts';

/** Sends `chunks` (with pauses between them) on a fresh connection; resolves with all it receives. */
function rawExchange(port: number, chunks: Array<string | number>, timeoutMs = 8000): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let received = '';
    const finish = () => {
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d) => (received += d.toString('utf8')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (typeof c === 'number') await new Promise((r) => setTimeout(r, c));
        else if (!socket.destroyed) socket.write(c);
      }
    });
  });
}

function statusAndBody(response: string): { status: number; body: { error?: { code: number } } | undefined } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
  const body = response.slice(response.indexOf('\r\n\r\n') + 4);
  try {
    return { status, body: JSON.parse(body) };
  } catch {
    return { status, body: undefined };
  }
}

describe('connection limits', () => {
  let topo: Topology;
  let port: number;
  before(async () => {
    topo = await startTopology({
      store: 'memory',
      backends: ['a'],
      gatewayArgs: ['--max-header-bytes', '4096', '--max-header-count', '20', '--headers-timeout', '700ms', '--request-timeout', '1200ms', '--max-connections', '30'],
    });
    port = Number(new URL(topo.entries()[0]!).port);
  });
  after(async () => topo?.stop());

  const head = (extra = '') => `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${extra}`;

  test('a header block over --max-header-bytes: 431 JSON-RPC', async () => {
    const r = statusAndBody(await rawExchange(port, [`${head(`X-Pad: ${'a'.repeat(6000)}\r\n`)}Content-Length: 2\r\n\r\n{}`]));
    assert.equal(r.status, 431);
    assert.equal(r.body?.error?.code, -32000);
  });

  test('more header fields than --max-header-count: 431 JSON-RPC', async () => {
    const many = Array.from({ length: 30 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const r = statusAndBody(await rawExchange(port, [`${head(many)}Content-Length: 2\r\n\r\n{}`]));
    assert.equal(r.status, 431);
    assert.equal(r.body?.error?.code, -32000);
  });

  test('headers sent too slowly: 408 JSON-RPC and the connection is closed', async () => {
    const started = Date.now();
    const r = statusAndBody(await rawExchange(port, ['POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n', 400, 'X-Slow: 1\r\n', 400, 'X-Slower: 2\r\n', 400, 'X-Slowest: 3\r\n', 3000]));
    assert.equal(r.status, 408);
    assert.equal(r.body?.error?.code, -32000);
    assert.ok(Date.now() - started < 6000, 'closed by the gateway, not by the test timeout');
  });

  test('a body sent too slowly: 408 JSON-RPC', async () => {
    const r = statusAndBody(await rawExchange(port, [`${head()}Content-Length: 40\r\n\r\n{"jsonrpc":`, 600, '"2.0",', 600, '"id":1,', 600, '"method"', 3000]));
    assert.equal(r.status, 408);
  });

  test('connections over --max-connections get 503 with Retry-After; the ones already open carry on', async () => {
    const url = topo.entries()[0]!;
    const sid = await rawSession(url);
    const idle: Socket[] = [];
    for (let i = 0; i < 32; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      idle.push(s);
    }
    const r = await rawExchange(port, [`${head()}Content-Length: 58\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":1}}`]);
    const parsed = statusAndBody(r);
    assert.equal(parsed.status, 503);
    assert.match(r, /Retry-After: 1/i);
    for (const s of idle) s.destroy();
    // Once they are gone (the gateway sees them close), new connections are served again.
    assert.equal(await eventually('served again', async () => (await rawCall(url, sid, 'whoami')).result?.replica), 'a');
  });

  test('every refusal is counted, and the gateway is still healthy', async () => {
    const m = parsePrometheus(await topo.gateways[0]!.metricsText());
    for (const limit of ['header_bytes', 'header_count', 'request_timeout', 'connections']) {
      assert.ok(metricSum(m, 'mcp_gateway_limit_rejections_total', { limit }) >= 1, `${limit} counted`);
    }
    assert.equal(topo.gateways[0]!.service.exited, false);
    assert.deepEqual(topo.gateways[0]!.service.lines.filter((l) => l.startsWith('[stderr]')), []);
  });
});
