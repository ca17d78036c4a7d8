// Per-principal quotas across two gateway replicas sharing Redis (auth by API key: principal = key id):
// request rate (a token bucket in the store, local while the store is down), sessions per principal, and
// listening streams per session and per principal. Each refusal is 429 + Retry-After and counted.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { Redis } from 'ioredis';
import { messagesOf, modernPost, post, rawSession, rpc, TASKS_CAPABILITY } from '../support/raw-mcp.ts';
import { SseReader } from '../support/sse-reader.ts';
import { eventually } from '../support/wait.ts';
import { startTopology, type Topology } from '../support/topology.ts';

const keys = { alice: randomBytes(32).toString('hex'), bob: randomBytes(32).toString('hex'), carol: randomBytes(32).toString('hex') };
const digest = (k: string) => createHash('sha256').update(k).digest('hex');
const auth = (k: string) => ({ authorization: `Bearer ${k}` });

function topology(args: string[]): Promise<Topology> {
  return startTopology({
    store: 'redis',
    backends: ['a'],
    gatewayArgs: ['--auth', 'api-key', '--resource-url', 'https://mcp.example.com/mcp', ...args],
    gatewayEnv: { AUTH_API_KEYS: Object.entries(keys).map(([id, k]) => `${id} sha256:${digest(k)}`).join(';') },
  });
}

async function limitCount(topo: Topology, limit: string): Promise<number> {
  let n = 0;
  for (const g of topo.gateways) n += metricSum(parsePrometheus(await g.metricsText()), 'mcp_gateway_limit_rejections_total', { limit });
  return n;
}

describe('request rate per principal, shared by the replicas', () => {
  let topo: Topology;
  before(async () => {
    topo = await topology(['--rate-limit', '1', '--rate-limit-burst', '4']);
  });
  after(async () => topo?.stop());

  test('a burst over the limit gets 429 + Retry-After through either replica; another principal is unaffected', async () => {
    const started = Date.now();
    const sid = await rawSession(topo.entries()[0]!, auth(keys.alice)); // 2 requests of alice's 4
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const entry = topo.entries()[i % 2]!;
      const res = await post(entry, rpc('tools/list', {}, i), { ...auth(keys.alice), 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
      statuses.push(res.status);
      if (res.status === 429) {
        assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After says when to come back');
        assert.equal(((await res.json()) as { id: number }).id, i, 'the error echoes the request id');
      } else await res.text();
    }
    // The bucket held 2 more, plus one per second since the burst began (1/s): however slow the machine, the
    // count is bounded by what the limit allows, not by a guess about timing.
    const refilled = Math.floor((Date.now() - started) / 1000);
    const passed = statuses.filter((s) => s === 200).length;
    assert.ok(passed >= 2 && passed <= 2 + refilled, `the shared bucket held 2 more (+${refilled} refilled): ${statuses.join(' ')}`);
    assert.equal(statuses.filter((s) => s === 429).length, 6 - passed);
    assert.ok(passed < 6, 'the limit refused some');
    // Bob has a bucket of his own.
    assert.equal((await post(topo.entries()[1]!, rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'b', version: '1' } }), auth(keys.bob))).status, 200);
    // Tokens come back at the configured rate (a refused request takes none).
    await eventually('a token came back', async () => {
      const again = await post(topo.entries()[1]!, rpc('tools/list'), { ...auth(keys.alice), 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
      await again.text();
      return again.status === 200;
    });
    assert.ok((await limitCount(topo, 'rate')) >= 6 - passed);
  });

  test('with Redis down the limit still holds, per replica', async () => {
    const sid = await rawSession(topo.entries()[0]!, auth(keys.bob));
    await topo.redis!.stop();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await post(topo.entries()[0]!, rpc('tools/list', {}, i), { ...auth(keys.bob), 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
        statuses.push(res.status);
        await res.text();
      }
      assert.ok(statuses.includes(429), `a local bucket limits while the store is away: ${statuses.join(' ')}`);
      assert.ok(statuses.includes(200), 'and requests within it still pass');
    } finally {
      await topo.redis!.start();
    }
  });
});

describe('sessions and streams per principal', () => {
  let topo: Topology;
  before(async () => {
    topo = await topology(['--max-sessions-per-principal', '3', '--max-streams-per-session', '1', '--max-streams-per-principal', '2']);
  });
  after(async () => topo?.stop());

  test('sessions: the 4th is refused with 429 on either replica until one ends', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 3; i++) sids.push(await rawSession(topo.entries()[i % 2]!, auth(keys.alice)));
    const fourth = await post(topo.entries()[1]!, rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'a', version: '1' } }, 9), auth(keys.alice));
    assert.equal(fourth.status, 429);
    assert.ok(Number(fourth.headers.get('retry-after')) >= 1);
    assert.ok(await rawSession(topo.entries()[0]!, auth(keys.bob)), 'another principal is unaffected');
    const del = await fetch(topo.entries()[0]!, { method: 'DELETE', headers: { ...auth(keys.alice), 'mcp-session-id': sids[0]!, 'mcp-protocol-version': '2025-11-25' } });
    assert.equal(del.status, 200);
    assert.ok(await rawSession(topo.entries()[1]!, auth(keys.alice)), 'after a DELETE there is room again');
    assert.equal(await limitCount(topo, 'sessions_per_principal'), 1);
  });

  test('streams: one per session, two per principal; closing one frees its slot', async () => {
    // Carol has no sessions yet in this topology: her three fit --max-sessions-per-principal 3, so the
    // streams-per-principal limit is really reached (a refused third session must fail the test, not skip it).
    const sids: string[] = [];
    for (let i = 0; i < 3; i++) sids.push(await rawSession(topo.entries()[0]!, auth(keys.carol)));
    const open = (sid: string) => {
      const ac = new AbortController();
      const res = fetch(topo.entries()[0]!, { headers: { ...auth(keys.carol), accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, signal: ac.signal });
      return { res, ac };
    };
    const first = open(sids[0]!);
    assert.equal((await first.res).status, 200);
    const sameSession = await (await open(sids[0]!).res);
    assert.equal(sameSession.status, 429, 'a second stream on one session');
    const second = open(sids[1]!);
    assert.equal((await second.res).status, 200);
    const third = await open(sids[2]!).res;
    assert.equal(third.status, 429, 'a third stream for the principal');
    await third.text();
    assert.equal(await limitCount(topo, 'streams_per_principal'), 1);
    first.ac.abort();
    // The slot comes back once the gateway has seen the stream close.
    const again = await eventually('the closed stream gave its slot back', async () => {
      const attempt = open(sids[0]!);
      const res = await attempt.res;
      if (res.status === 200) return attempt;
      await res.text();
      return undefined;
    });
    again.ac.abort();
    second.ac.abort();
    assert.ok((await limitCount(topo, 'streams_per_session')) >= 1, 'the second stream on one session (and any retry above)');
  });
});

describe('the sessions quota counts open sessions only', () => {
  let topo: Topology;
  const INIT = rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } }, 9);
  before(async () => {
    topo = await topology(['--max-sessions-per-principal', '1']);
  });
  after(async () => topo?.stop());

  test('a task is not a session: it takes no slot of the quota', async () => {
    const created = await modernPost(topo.entries()[0]!, 'tools/call', { name: 'slow_task', arguments: { ms: 100 } }, { capabilities: TASKS_CAPABILITY, headers: auth(keys.carol) });
    assert.equal(created.status, 200);
    const [msg] = (await messagesOf(created)) as Array<{ result?: { resultType: string; taskId: string } }>;
    assert.equal(msg?.result?.resultType, 'task');
    // The task is pinned (its binding is in the store) before the quota is asked.
    const redis = new Redis(topo.redis!.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await eventually('task bound', async () => (await redis.exists(`mcpgw:s:{${msg!.result!.taskId}}`)) === 1);
    } finally {
      redis.disconnect();
    }
    const sid = await rawSession(topo.entries()[1]!, auth(keys.carol));
    const del = await fetch(topo.entries()[0]!, { method: 'DELETE', headers: { ...auth(keys.carol), 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' } });
    assert.equal(del.status, 200);
  });

  test('a closed legacy HTTP+SSE stream gives its slot back at once, not after the session TTL', async () => {
    const ac = new AbortController();
    const res = await fetch(new URL('/sse', topo.entries()[0]!), { headers: { ...auth(keys.carol), accept: 'text/event-stream' }, signal: ac.signal });
    assert.equal(res.status, 200);
    const stream = new SseReader(res);
    await stream.until((r) => r.events.length >= 1);
    const messages = new URL(stream.events[0]!.data, topo.entries()[1]!).href;
    // Another principal presenting the stream's id: unknown to it, and counted as a mismatch on this route too.
    const mismatches = async () => {
      let n = 0;
      for (const g of topo.gateways) n += metricSum(parsePrometheus(await g.metricsText()), 'mcp_gateway_sessions_lost_total', { reason: 'principal_mismatch' });
      return n;
    };
    const before = await mismatches();
    const foreign = await post(messages, rpc('ping', {}, 2), auth(keys.alice));
    assert.equal(foreign.status, 404);
    await foreign.text();
    assert.equal((await mismatches()) - before, 1);
    const full = await post(topo.entries()[1]!, INIT, auth(keys.carol));
    assert.equal(full.status, 429, 'the open stream holds the one slot');
    await full.text();
    ac.abort();
    // Unbound once the gateway saw the stream end: its messages are then unknown.
    await eventually('stream unbound', async () => {
      const r = await post(messages, rpc('ping', {}, 1), auth(keys.carol));
      await r.text();
      return r.status === 404;
    });
    const again = await post(topo.entries()[1]!, INIT, auth(keys.carol));
    assert.equal(again.status, 200, 'the slot is free again');
    await again.text();
  });
});
