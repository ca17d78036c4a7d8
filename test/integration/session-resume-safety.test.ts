// --session-resume (issue 16), the parts that must hold exactly: both gateway replicas resuming one session
// at the same moment open exactly one new upstream session (the claim in Redis); a tool with side effects
// is never run twice by the gateway (cut in flight: -32010; refused with 404 by a backend that forgot the
// session: sent on, since it never ran); an idempotent tool cut in flight is sent again; and a session
// subscribed to a resource hears of its updates from the new backend.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient } from '../support/mcp-client.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { messagesOf, post, rawCall, rawSession, rpc } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';
import { eventually } from '../support/wait.ts';

const V = { 'mcp-protocol-version': '2025-11-25' };

function runsOf(file: string, key: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  return text.split('\n').filter((l) => l && (JSON.parse(l) as { key: string }).key === key).length;
}

/** Sessions each live backend holds (the demo backend's /healthz). */
async function backendSessions(topo: Topology): Promise<number> {
  let n = 0;
  for (const b of topo.backends) {
    if (b.service.exited) continue;
    n += ((await (await fetch(new URL('/healthz', b.url))).json()) as { sessions: number }).sessions;
  }
  return n;
}

async function resumedTotal(topo: Topology, outcome: string): Promise<number> {
  let n = 0;
  for (const gw of topo.gateways) n += metricSum(parsePrometheus(await gw.metricsText()), 'mcp_gateway_sessions_resumed_total', { outcome });
  return n;
}

describe('session resume: claims, replay safety, subscriptions (2 gateways, redis)', () => {
  let topo: Topology;
  let dir: string;
  let effects: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'resume-safety-'));
    effects = join(dir, 'side-effects.jsonl');
    topo = await startTopology({
      store: 'redis',
      backends: ['a', 'b', 'c', 'd'],
      gatewayArgs: ['--session-resume', 'reinitialize', '--backend-refused-grace', '1s'],
      backendArgs: ['--side-effects-file', effects],
    });
  });
  after(async () => {
    await topo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A raw session (initialize through gateway 0), its tools listed so the gateways learn their hints, and its replica. */
  async function session(): Promise<{ sid: string; replica: string }> {
    const [g0, g1] = topo.entries() as [string, string];
    const sid = await rawSession(g0);
    for (const g of [g0, g1]) await (await post(g, rpc('tools/list', {}, 2), { ...V, 'mcp-session-id': sid })).text();
    const who = await rawCall(g0, sid, 'whoami');
    return { sid, replica: who.result?.replica as string };
  }

  async function killReplica(name: string): Promise<void> {
    await topo.backends.find((b) => b.name === name)!.kill();
  }

  test('both gateways resuming one session at once open exactly one new upstream session', async () => {
    const { sid, replica } = await session();
    await killReplica(replica);
    const [g0, g1] = topo.entries() as [string, string];
    const sessionsBefore = await backendSessions(topo);
    const resumedBefore = await resumedTotal(topo, 'resumed');
    // Eight requests at the same moment, half through each gateway replica.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => rawCall(i % 2 ? g1 : g0, sid, 'whoami')));
    const replicas = new Set(answers.map((a) => a.result?.replica));
    assert.ok(answers.every((a) => a.status === 200), `every request answered 200 (${answers.map((a) => a.status).join(',')})`);
    assert.equal(replicas.size, 1, 'all of them on one new replica');
    assert.ok(!replicas.has(replica));
    assert.equal((await backendSessions(topo)) - sessionsBefore, 1, 'exactly one new upstream session on the live backends');
    assert.equal((await resumedTotal(topo, 'resumed')) - resumedBefore, 1, 'one resume, counted once');
    // The client keeps its id: answers carry it, not the upstream one.
    const res = await post(g1, rpc('ping', {}, 3), { ...V, 'mcp-session-id': sid });
    await res.text();
    assert.equal(res.status, 200);
    if (res.headers.has('mcp-session-id')) assert.equal(res.headers.get('mcp-session-id'), sid);
  });

  test('a side-effect call is never run twice: cut in flight it gets -32010; an idempotent one is sent again', async () => {
    const { sid, replica } = await session();
    const [g0] = topo.entries() as [string];
    const cut = rawCall(g0, sid, 'increment', { key: 'cut', ms: 60_000 });
    const idem = post(g0, rpc('tools/call', { name: 'put', arguments: { value: 'v1', ms: 4000 } }, 8), { ...V, 'mcp-session-id': sid });
    await eventually('the side-effect call to run', () => runsOf(effects, 'cut') === 1);
    await killReplica(replica);
    const answer = await cut;
    const reply = answer.messages.find((m) => m.id === 7) as { error?: { code: number; message: string } } | undefined;
    assert.equal(reply?.error?.code, -32010, `the cut call is answered -32010 (${JSON.stringify(answer.messages)})`);
    assert.match(reply?.error?.message ?? '', /may or may not have run/);
    const idemMsgs = await messagesOf(await idem);
    const idemReply = idemMsgs.find((m) => m.id === 8) as { result?: { structuredContent?: { value: string; replica: string } } } | undefined;
    assert.equal(idemReply?.result?.structuredContent?.value, "v1", `the idempotent call in flight was sent again and answered (${JSON.stringify(idemMsgs)})`);
    assert.notEqual(idemReply?.result?.structuredContent?.replica, replica);
    // The session lives on, and the next side-effect call runs once.
    const next = await rawCall(g0, sid, 'increment', { key: 'next' });
    assert.equal(next.result?.runs, 1);
    assert.equal(runsOf(effects, 'cut'), 1, 'the cut call ran once, on the dead replica, and never again');
    assert.ok((await resumedTotal(topo, 'not_replayed')) >= 1);
  });

  test('a subscribed session hears of resource updates from its new backend', async () => {
    const c = await connectClient(() => topo.entries());
    const updates: string[] = [];
    c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    const home = (await c.call<{ replica: string }>('whoami')).replica;
    const sid = c.sessionId();
    await c.client.subscribeResource({ uri: 'demo://counter' });
    await eventually('an update from the first backend', async () => {
      await c.call('touch');
      return updates.length > 0;
    });
    await killReplica(home);
    const moved = (await c.call<{ replica: string }>('whoami')).replica;
    assert.notEqual(moved, home);
    assert.equal(c.sessionId(), sid);
    const heard = updates.length;
    // The subscription was replayed on the new upstream session; its notifications reach the client once its
    // listening stream has reconnected (to the new upstream session, under the same client id).
    await eventually('an update from the new backend', async () => {
      const r = await c.call<{ replica: string; notified: number }>('touch');
      assert.equal(r.replica, moved);
      return r.notified >= 1 && updates.length > heard;
    });
    await c.close();
  });
});
