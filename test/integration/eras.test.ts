// Every transport era at once, through two gateway replicas (Redis) over three dual-era backend replicas:
// 2025-era sessions stick to one replica, 2026-07-28 traffic spreads over all of them (an input_required retry
// may land on another replica), 2024-11-05 HTTP+SSE sessions stay with the replica holding their stream, and a
// task is served by the replica that created it whichever gateway replica the client polls through.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectLegacySseClient, connectModernClient, type EraClient } from '../support/era-clients.ts';
import { connectClient } from '../support/mcp-client.ts';
import { messagesOf, modernPost, TASKS_CAPABILITY } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';

type Who = { replica: string; era: string; sessionId: string | null };
type Asked = { replica: string; askedBy: string; answer: string };

describe('every era at once, two gateway replicas over three backends', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({ store: 'redis' });
  });
  after(async () => topo?.stop());

  test('a session client, a stateless client and a legacy SSE client, all at once', async () => {
    const entries = topo.entries();
    const sseUrl = (entry: string) => new URL('/sse', entry).href;

    const sessionRun = async (i: number) => {
      const c = await connectClient(entries, { name: `session-${i}` });
      try {
        const replicas = new Set<string>();
        for (let round = 0; round < 2; round++) {
          const sampled = await c.call<{ replica: string; answer: string }>('ask_model', { prompt: `s${i}.${round}` });
          assert.equal(sampled.answer, `model says: s${i}.${round}`);
          const elicited = await c.call<{ replica: string; answer: string }>('ask_user', { question: `q${i}.${round}?` });
          assert.equal(elicited.answer, `user says: q${i}.${round}?`);
          replicas.add(sampled.replica).add(elicited.replica).add((await c.call<Who>('whoami')).replica);
        }
        assert.equal(replicas.size, 1, `a session stays on one replica, got ${[...replicas].join(', ')}`);
        assert.deepEqual(c.answered, { sampling: 2, elicitation: 2 });
        assert.equal(new Set(c.entries).size, 2, 'through both gateway replicas');
      } finally {
        await c.close();
      }
    };

    const statelessRun = async () => {
      // Not strictly alternating: gateway replicas balance independently, and two that count in step would
      // send a call and its retry, one through each, to the same backend every time.
      const c = await connectModernClient(entries, { order: [0, 0, 1] });
      try {
        const served = new Set<string>();
        for (let i = 0; i < 9; i++) {
          const who = await c.call<Who>('whoami');
          assert.equal(who.era, 'modern');
          assert.equal(who.sessionId, null);
          served.add(who.replica);
        }
        assert.deepEqual([...served].sort(), ['a', 'b', 'c'], 'stateless traffic spreads over every replica');
        // input_required: the retry is a new request; with no affinity it may land elsewhere and must work there.
        let crossed = 0;
        for (let i = 0; i < 6; i++) {
          const r = await c.call<Asked>('ask_user', { question: `m${i}?` });
          assert.equal(r.answer, `user says: m${i}?`);
          if (r.askedBy !== r.replica) crossed++;
          const m = await c.call<Asked>('ask_model', { prompt: `p${i}` });
          assert.equal(m.answer, `model says: p${i}`);
          if (m.askedBy !== m.replica) crossed++;
        }
        assert.ok(crossed > 0, 'some retries were answered by another replica than the one that asked');
        assert.deepEqual(c.answered, { sampling: 6, elicitation: 6 });
        assert.ok(c.wire.every((w) => w.sessionHeader === null), 'no session id is ever minted or echoed');
        assert.equal(new Set(c.wire.map((w) => w.entry)).size, 2, 'through both gateway replicas');
      } finally {
        await c.close();
      }
    };

    const legacySseRun = async () => {
      const c: EraClient = await connectLegacySseClient(sseUrl(entries[0]!), entries);
      try {
        const replicas = new Set<string>();
        for (let i = 0; i < 2; i++) {
          replicas.add((await c.call<{ replica: string; answer: string }>('ask_model', { prompt: `l${i}` })).replica);
          const e = await c.call<{ replica: string; answer: string }>('ask_user', { question: `l${i}?` });
          assert.equal(e.answer, `user says: l${i}?`);
          replicas.add(e.replica).add((await c.call<Who>('whoami')).replica);
        }
        assert.equal(replicas.size, 1, 'a legacy SSE session stays with the replica holding its stream');
        assert.deepEqual(c.answered, { sampling: 2, elicitation: 2 });
        const posts = c.wire.filter((w) => w.method === 'POST');
        assert.ok(posts.length > 0 && posts.every((w) => w.status === 202));
        assert.equal(new Set(posts.map((w) => w.entry)).size, 2, 'its messages went through both gateway replicas');
      } finally {
        await c.close();
      }
    };

    await Promise.all([sessionRun(1), sessionRun(2), statelessRun(), legacySseRun(), legacySseRun()]);
  });

  test('dual-era backends serve a 2025-11-25 client and a 2026-07-28 client at the same time', async () => {
    const entries = topo.entries();
    const [legacy, modern] = await Promise.all([connectModernClient(entries, { era: 'legacy' }), connectModernClient(entries, { era: 'modern' })]);
    try {
      assert.deepEqual([legacy.protocolVersion, modern.protocolVersion], ['2025-11-25', '2026-07-28']);
      const [l, m] = await Promise.all([
        Promise.all([legacy.call<Who>('whoami'), legacy.call<Asked>('ask_user', { question: 'old?' })]),
        Promise.all([modern.call<Who>('whoami'), modern.call<Asked>('ask_user', { question: 'new?' })]),
      ]);
      assert.equal(l[0].era, 'legacy');
      assert.ok(l[0].sessionId, 'the 2025 client has a session');
      assert.equal(l[1].replica, l[0].replica);
      assert.equal(l[1].answer, 'user says: old?');
      assert.equal(m[0].era, 'modern');
      assert.equal(m[0].sessionId, null);
      assert.equal(m[1].answer, 'user says: new?');
      assert.ok(legacy.wire.some((w) => w.sessionHeader !== null));
      assert.ok(modern.wire.every((w) => w.sessionHeader === null));
    } finally {
      await Promise.all([legacy.close(), modern.close()]);
    }
  });

  test('a task created on one replica is polled to completion through the other gateway replica', async () => {
    const [gw1, gw2] = topo.entries() as [string, string];
    const created: Array<{ taskId: string }> = [];
    for (let i = 0; i < 6; i++) {
      const res = await modernPost(gw1, 'tools/call', { name: 'slow_task', arguments: { ms: 300 } }, { capabilities: TASKS_CAPABILITY, id: i });
      assert.equal(res.status, 200);
      const [msg] = (await messagesOf(res)) as Array<{ result: { resultType: string; taskId: string; status: string } }>;
      assert.equal(msg?.result.resultType, 'task');
      created.push(msg!.result);
    }
    const homes = new Set<string>();
    for (const { taskId } of created) {
      for (let polls = 0; ; polls++) {
        assert.ok(polls < 100, 'the task completes');
        const res = await modernPost(gw2, 'tasks/get', { taskId }, { capabilities: TASKS_CAPABILITY });
        const [msg] = (await messagesOf(res)) as Array<{ result?: { status: string; result?: { structuredContent: { replica: string } } }; error?: unknown }>;
        assert.equal(res.status, 200, `tasks/get answered ${JSON.stringify(msg)}`);
        assert.equal(msg?.error, undefined, 'the task is known where the poll lands');
        if (msg?.result?.status === 'completed') {
          homes.add(msg.result.result!.structuredContent.replica);
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(homes.size >= 2, `tasks were created on several replicas (${[...homes].join(', ')}), each polled where it lives`);
  });
});
