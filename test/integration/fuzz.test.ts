// A bounded fuzz run against a live gateway over raw TCP: random and malformed HTTP (invalid UTF-8,
// truncated and huge JSON, deep nesting, duplicate and conflicting headers, CR/LF injection, odd methods and
// paths, pipelined garbage). The gateway must never crash or show a stack trace, must answer each request
// with a JSON-RPC error (or a proper MCP answer) or close the connection, and its file descriptors and heap
// must come back to where they were.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { rawCall, rawSession } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';

const CASES = 400;

function send(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(done, 3000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      socket.end(payload);
    });
  });
}

const headerName = fc.constantFrom('Content-Type', 'Accept', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Content-Length', 'Transfer-Encoding', 'Host', 'X-Request-Id', 'Last-Event-ID', 'Mcp-Method', 'Connection', 'Authorization');
const headerValue = fc.oneof(
  { arbitrary: fc.constantFrom('application/json', 'application/json, text/event-stream', 'text/event-stream', 'chunked', '0', '-1', '99999999999', 'keep-alive', '2025-11-25', '2026-07-28', 'Bearer x'), weight: 6 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ maxLength: 20 }).map((s) => `${s}\r\nX-Injected: yes`), weight: 1 },
);
const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.json().map((j) => Buffer.from(j)),
  fc.constantFrom(
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"f","version":"1"}}}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"',
    '[{"jsonrpc":"2.0","id":1,"method":"ping"},',
    '\xff\xfe\x00{}',
  ).map((s) => Buffer.from(s, 'latin1')),
  fc.nat({ max: 5000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
  fc.constant(Buffer.alloc(5 * 1024 * 1024, 0x61)),
);
const request = fc.record({
  // Mostly requests that reach the MCP handler; some that only Node's HTTP parser sees.
  method: fc.oneof({ arbitrary: fc.constantFrom('POST', 'GET', 'DELETE'), weight: 6 }, { arbitrary: fc.constantFrom('PUT', 'OPTIONS', 'HEAD', 'TRACE', 'CONNECT', 'PROPFIND', 'post', 'G\u00e9T', ''), weight: 2 }),
  path: fc.oneof(
    { arbitrary: fc.constant('/mcp'), weight: 6 },
    { arbitrary: fc.constantFrom('/mcp/', '/mcp?x=1', '/../mcp', '/%00', '/mcp%2f..', '*', '/metrics', `/${'a'.repeat(9000)}`), weight: 2 },
    { arbitrary: fc.webPath(), weight: 1 },
  ),
  version: fc.oneof({ arbitrary: fc.constant('HTTP/1.1'), weight: 8 }, { arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/9', ''), weight: 1 }),
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }),
  body,
  withLength: fc.boolean(),
  garbageAfter: fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: undefined }),
});

interface FuzzRequest {
  method: string;
  path: string;
  version: string;
  headers: Array<[string, string]>;
  body: Buffer;
  withLength: boolean;
  garbageAfter: Uint8Array | undefined;
}

function encode(r: FuzzRequest): Buffer {
  const lines = [`${r.method} ${r.path} ${r.version}`, 'Host: 127.0.0.1'];
  for (const [name, value] of r.headers) lines.push(`${name}: ${value}`);
  if (r.withLength) lines.push(`Content-Length: ${r.body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return Buffer.concat([head, r.body, r.garbageAfter ? Buffer.from(r.garbageAfter) : Buffer.alloc(0)]);
}

/** Every HTTP response in what came back; each must be a JSON body or an MCP answer, never a stack. */
function checkResponses(raw: Buffer): number {
  const text = raw.toString('latin1');
  assert.ok(!/\n\s+at .+:\d+:\d+/.test(text), `no stack trace in:\n${text.slice(0, 500)}`);
  let count = 0;
  for (const m of text.matchAll(/HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n/g)) {
    count++;
    const status = Number(m[1]);
    const headers = m[2] as string;
    const type = /content-type: *([^\r\n;]+)/i.exec(headers)?.[1]?.toLowerCase();
    if (status >= 400) assert.equal(type, 'application/json', `error ${status} is JSON:\n${text.slice(0, 400)}`);
    else assert.ok(type === undefined || type === 'application/json' || type === 'text/event-stream', `answer type ${type}`);
  }
  return count;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe('fuzzing a live gateway', () => {
  let topo: Topology;
  let port: number;
  before(async () => {
    topo = await startTopology({ store: 'memory', backends: ['a'], gatewayArgs: ['--headers-timeout', '1s', '--request-timeout', '2s'] });
    port = Number(new URL(topo.entries()[0]!).port);
  });
  after(async () => topo?.stop());

  test(`${CASES} malformed requests: no crash, JSON-RPC errors or closed connections, resources back to baseline`, async () => {
    const gw = topo.gateways[0]!;
    const pid = gw.service.proc.pid!;
    const url = topo.entries()[0]!;
    const sid = await rawSession(url);
    await rawCall(url, sid, 'whoami');
    await new Promise((r) => setTimeout(r, 500));
    const fdsBefore = fdCount(pid);
    const heapBefore = metricSum(parsePrometheus(await gw.metricsText()), 'nodejs_heap_size_used_bytes');

    let answered = 0;
    const samples = fc.sample(request, { numRuns: CASES, seed: 20261123 });
    for (let i = 0; i < samples.length; i += 8) {
      const results = await Promise.all(samples.slice(i, i + 8).map((r) => send(port, encode(r))));
      for (const raw of results) answered += checkResponses(raw);
      assert.equal(gw.service.exited, false, `gateway alive after case ${i}`);
    }
    assert.ok(answered > CASES / 4, `most malformed requests got an answer (${answered})`);

    // Still serving, and nothing was left behind.
    assert.equal((await rawCall(url, sid, 'whoami')).result?.replica, 'a');
    const deadline = Date.now() + 15_000;
    let fds = fdCount(pid);
    while (fds > fdsBefore + 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      fds = fdCount(pid);
    }
    assert.ok(fds <= fdsBefore + 2, `file descriptors back to baseline: ${fdsBefore} -> ${fds}`);
    let heap = Infinity;
    while (Date.now() < deadline) {
      heap = metricSum(parsePrometheus(await gw.metricsText()), 'nodejs_heap_size_used_bytes');
      if (heap < heapBefore + 24 * 1024 * 1024) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(heap < heapBefore + 24 * 1024 * 1024, `heap back near baseline: ${(heapBefore / 1e6).toFixed(1)} MB -> ${(heap / 1e6).toFixed(1)} MB`);
    const stderr = gw.service.lines.filter((l) => l.startsWith('[stderr]'));
    assert.deepEqual(stderr, [], 'nothing on stderr');
    assert.ok(!gw.service.lines.some((l) => l.includes('"level":"fatal"') || l.includes('"level":"error"')), 'no error logged');
  });
});
