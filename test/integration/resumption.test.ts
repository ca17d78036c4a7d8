// 2025-era streams that outlive a connection (Streamable HTTP 2025-11-25, "Resumability and Redelivery"): a
// stream resumed with Last-Event-ID through another gateway replica reaches the same backend, which replays
// what the client missed; and a stream the server closes on purpose (polling, after the priming event and a
// `retry` hint) is picked up again through the gateway.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectClient } from '../support/mcp-client.ts';
import { post, rawCall, rawSession, rpc } from '../support/raw-mcp.ts';
import { SseReader } from '../support/sse-reader.ts';
import { startTopology, type Topology } from '../support/topology.ts';

const V = '2025-11-25';
const getStream = (entry: string, sid: string, lastEventId?: string) =>
  fetch(entry, {
    headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': V, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
  });
const announced = (r: SseReader) => r.messages().filter((m) => m.method === 'notifications/message').map((m) => (m.params as { data: { i: number } }).data.i);

describe('resumable 2025-era streams through the gateway', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({ store: 'redis', gatewayArgs: ['--sse-keepalive', '0s'] });
  });
  after(async () => topo?.stop());

  test('the server closes a call stream on purpose (polling): priming event, retry, resume elsewhere', async () => {
    const [gw1, gw2] = topo.entries() as [string, string];
    const sid = await rawSession(gw1);
    const res = await post(gw1, rpc('tools/call', { name: 'close_stream', arguments: { ms: 400 } }, 7), { 'mcp-session-id': sid, 'mcp-protocol-version': V });
    assert.equal(res.status, 200);
    const first = await new SseReader(res).until((r) => r.ended);
    assert.equal(first.failed, undefined, 'the gateway ends the stream cleanly when the backend does');
    const priming = first.events[0];
    assert.ok(priming?.id, 'the stream opens with a priming event carrying an event id');
    assert.equal(priming.data, '', 'and no message');
    assert.ok(first.events.some((e) => e.retry !== undefined), 'the server told the client when to come back (retry)');
    assert.equal(first.messages().find((m) => m.id === 7), undefined, 'the result is not on the closed stream');

    // The client comes back through the other gateway replica with the last event id it saw.
    const lastId = first.events.filter((e) => e.id).at(-1)!.id!;
    const resumed = await new SseReader(await getStream(gw2, sid, lastId)).until((r) => r.messages().some((m) => m.id === 7));
    const result = resumed.messages().find((m) => m.id === 7) as { result: { structuredContent: { replica: string; closed: boolean } } };
    assert.equal(result.result.structuredContent.closed, true);
    await resumed.cancel();
    const home = (await rawCall(gw2, sid, 'whoami')).result?.replica;
    assert.equal(result.result.structuredContent.replica, home, 'resumed on the replica that holds the session');
  });

  test('an SDK client rides through a server-closed stream without noticing', async () => {
    const c = await connectClient(topo.entries());
    try {
      const r = await c.call<{ replica: string; closed: boolean }>('close_stream', { ms: 300 });
      assert.equal(r.closed, true);
      assert.equal(r.replica, (await c.call<{ replica: string }>('whoami')).replica);
    } finally {
      await c.close();
    }
  });

  test('a GET stream resumed through another gateway replica after the first was killed: no event lost', async () => {
    const [gw1, gw2] = topo.entries() as [string, string];
    const sid = await rawSession(gw2);
    const stream = new SseReader(await getStream(gw1, sid));
    const COUNT = 12;
    const called = await rawCall(gw2, sid, 'announce', { message: 'tick', count: COUNT, intervalMs: 100 });
    assert.equal(called.status, 200);
    await stream.until((r) => announced(r).length >= 3);

    await topo.gateways[0]!.kill(); // mid-stream: the client's connection breaks
    await stream.until((r) => r.ended);
    const seen = announced(stream);
    assert.ok(seen.length < COUNT, 'the kill landed mid-stream');
    const lastId = stream.events.filter((e) => e.id).at(-1)!.id!;

    const resumed = new SseReader(await getStream(gw2, sid, lastId));
    await resumed.until((r) => seen.length + announced(r).length >= COUNT);
    await resumed.cancel();
    assert.deepEqual([...seen, ...announced(resumed)], Array.from({ length: COUNT }, (_, i) => i + 1), 'every event once, in order');
  });
});
