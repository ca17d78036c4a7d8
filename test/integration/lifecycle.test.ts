// Timeouts toward backends and graceful shutdown on SIGTERM.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { post, rawCall, rawSession, rpc } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';
import { eventually } from '../support/wait.ts';

describe('a backend slower than the upstream timeout', () => {
  let topo: Topology;
  before(async () => {
    // --json: the backend sends its headers only with the result, so the headers timeout applies.
    topo = await startTopology({ store: 'memory', backends: ['slow'], backendArgs: ['--json'], gatewayArgs: ['--upstream-timeout', '500ms'] });
  });
  after(async () => topo?.stop());

  test('gets 504 with Retry-After, no hang, and the session lives on', async () => {
    const url = topo.entries()[0]!;
    const sid = await rawSession(url);
    const started = Date.now();
    const res = await post(url, rpc('tools/call', { name: 'sleep', arguments: { ms: 3000 } }, 5), {
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
    });
    const elapsed = Date.now() - started;
    assert.equal(res.status, 504);
    assert.equal(res.headers.get('retry-after'), '1');
    const body = (await res.json()) as { id: number; error: { code: number } };
    assert.equal(body.id, 5);
    assert.ok(elapsed >= 450 && elapsed < 2500, `answered after ${elapsed} ms`);
    const again = await rawCall(url, sid, 'whoami');
    assert.equal(again.result?.replica, 'slow');
  });
});

describe('graceful shutdown on SIGTERM', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({ store: 'memory', backends: ['a'], gatewayArgs: ['--drain-delay', '600ms', '--shutdown-timeout', '5s'] });
  });
  after(async () => topo?.stop());

  test('reports not-ready, finishes in-flight requests, ends streams cleanly, exits 0', async () => {
    const gw = topo.gateways[0]!;
    const url = topo.entries()[0]!;
    const sid = await rawSession(url);
    const stream = await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' } });
    assert.equal(stream.status, 200);
    const streamText = stream.text(); // resolves only if the stream ends cleanly
    const inFlight = rawCall(url, sid, 'sleep', { ms: 1200 });
    // The backend is working on it (its /healthz counts the sleeping tools) before the signal.
    const healthz = new URL('/healthz', topo.backends[0]!.url);
    await eventually('the tool call reached the backend', async () => ((await (await fetch(healthz)).json()) as { sleeping: number }).sleeping >= 1, { intervalMs: 20 });

    gw.service.proc.kill('SIGTERM');
    const ready = await eventually('not ready while draining', async () => {
      const r = await fetch(`${gw.adminUrl}/readyz`);
      return r.status === 503 ? r : void (await r.body?.cancel());
    }, { intervalMs: 20 });
    assert.equal(((await ready.json()) as { status: string }).status, 'not-ready');

    const result = await inFlight;
    assert.equal(result.result?.slept, 1200, 'the in-flight request finished');
    await streamText; // ended, not torn down
    const code = await gw.stop();
    assert.equal(code, 0);
  });
});
