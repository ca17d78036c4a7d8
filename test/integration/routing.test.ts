// The core promise, run the same way on both session stores: every MCP session sticks to the backend replica
// that created it, whichever gateway replica each request reaches, so sampling and elicitation round trips
// (server-to-client requests answered by a new POST) work with the backends scaled out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectClient } from '../support/mcp-client.ts';
import { rawCall, rawSession } from '../support/raw-mcp.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { startTopology, type StoreKind, type Topology } from '../support/topology.ts';

const SESSIONS = 50;

for (const store of ['memory', 'redis'] as StoreKind[]) {
  describe(`sticky routing on the ${store} store`, () => {
    let topo: Topology;
    before(async () => {
      topo = await startTopology({ store, gatewayArgs: ['--sse-keepalive', '300ms'] });
    });
    after(async () => topo?.stop());

    test(`${SESSIONS} concurrent sessions with sampling and elicitation each stay on one replica`, async () => {
      const entries = topo.entries();
      const clients = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => connectClient(entries, { name: `client-${i}` })));
      try {
        const servedBy = await Promise.all(
          clients.map(async (c, i) => {
            const replicas = new Set<string>();
            const who = await c.call<{ replica: string; sessionId: string }>('whoami');
            assert.equal(who.sessionId, c.sessionId(), 'the backend sees the session id the client holds');
            replicas.add(who.replica);
            const sampled = await c.call<{ replica: string; answer: string }>('ask_model', { prompt: `question ${i}` });
            assert.equal(sampled.answer, `model says: question ${i}`);
            replicas.add(sampled.replica);
            const elicited = await c.call<{ replica: string; action: string; answer: string }>('ask_user', { question: `q${i}?` });
            assert.deepEqual([elicited.action, elicited.answer], ['accept', `user says: q${i}?`]);
            replicas.add(elicited.replica);
            replicas.add((await c.call<{ replica: string }>('whoami')).replica);
            return replicas;
          }),
        );
        for (const [i, replicas] of servedBy.entries()) {
          assert.equal(replicas.size, 1, `session ${i} was served by ${[...replicas].join(', ')}`);
        }
        const used = new Set(servedBy.map((r) => [...r][0]));
        assert.deepEqual([...used].sort(), ['a', 'b', 'c'], 'sessions are spread over all three replicas');
        for (const c of clients) {
          assert.equal(c.answered.sampling, 1);
          assert.equal(c.answered.elicitation, 1);
          if (entries.length > 1) {
            const origins = new Set(c.entries);
            assert.equal(origins.size, entries.length, 'each client reached every gateway replica');
          }
        }
        // Least-sessions placement: no replica carries much more than its share.
        const perReplica = new Map<string, number>();
        for (const r of servedBy) perReplica.set([...r][0] as string, (perReplica.get([...r][0] as string) ?? 0) + 1);
        for (const [name, n] of perReplica) assert.ok(n <= Math.ceil(SESSIONS / 3) + 4, `replica ${name} got ${n} of ${SESSIONS} sessions`);

        let samples = parsePrometheus(await topo.gateways[0]!.metricsText());
        const created = topo.gateways.length === 1 ? metricSum(samples, 'mcp_gateway_sessions_created_total') : undefined;
        if (created !== undefined) assert.equal(created, SESSIONS);
        // The gauge follows the store's counts, refreshed once a second: sessions the other gateway replica bound
        // show up within a refresh or two.
        for (let i = 0; i < 50 && metricSum(samples, 'mcp_gateway_sessions_active') !== SESSIONS; i++) {
          await new Promise((r) => setTimeout(r, 100));
          samples = parsePrometheus(await topo.gateways[0]!.metricsText());
        }
        assert.equal(metricSum(samples, 'mcp_gateway_sessions_active'), SESSIONS, 'the store counts every live session');
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });

    test('DELETE ends a session for every gateway replica', async () => {
      const entries = topo.entries();
      const c = await connectClient(entries);
      const sid = c.sessionId();
      await c.call('whoami');
      await c.transport.terminateSession();
      for (const entry of entries) {
        const res = await fetch(entry, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid },
          body: JSON.stringify({ jsonrpc: '2.0', id: 41, method: 'tools/list' }),
        });
        assert.equal(res.status, 404, `after DELETE, ${entry} answers 404`);
        const body = (await res.json()) as { id: unknown; error: { code: number } };
        assert.equal(body.error.code, -32001);
        assert.equal(body.id, 41, 'the error echoes the request id');
      }
      await c.close();
    });

    test('a GET stream carries server notifications and keep-alive comments while idle', async () => {
      const entries = topo.entries();
      const sid = await rawSession(entries[0] as string);
      // A raw GET stream (through the last gateway replica), so that SSE comments are visible.
      const ac = new AbortController();
      const stream = await fetch(entries[entries.length - 1] as string, {
        headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
        signal: ac.signal,
      });
      try {
        assert.equal(stream.status, 200);
        assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
        const reader = stream.body!.getReader();
        const decoder = new TextDecoder();
        let text = '';
        const readUntil = async (pred: (t: string) => boolean, ms: number) => {
          const deadline = Date.now() + ms;
          while (!pred(text)) {
            if (Date.now() > deadline) throw new Error(`stream did not deliver in time; got:\n${text}`);
            const { value, done } = await reader.read();
            if (done) throw new Error(`stream ended; got:\n${text}`);
            text += decoder.decode(value, { stream: true });
          }
        };
        // Idle for a while: keep-alives arrive, and the stream stays open.
        await readUntil((t) => (t.match(/: keep-alive/g) ?? []).length >= 3, 5_000);
        const called = await rawCall(entries[0] as string, sid, 'announce', { message: 'hello stream', count: 2 });
        assert.equal(called.status, 200);
        await readUntil((t) => (t.match(/hello stream/g) ?? []).length >= 2, 5_000);
        assert.match(text, /"method":"notifications\/message"/);
        // Every keep-alive sits between events, never inside one.
        for (const block of text.split('\n\n')) {
          if (block.includes(': keep-alive')) assert.equal(block.trim(), ': keep-alive');
        }
      } finally {
        ac.abort();
      }
    });
  });
}
