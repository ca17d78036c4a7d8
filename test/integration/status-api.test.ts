// The status page's JSON API (README "Status page") against real processes: three demo backends, Redis, two
// gateway replicas, a known mix of traffic, the lookup of a real session and task, a killed backend, and the
// exposure policy (its own token; off with --no-status-page; never on the MCP port).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { trafficMix, type MixResult, type StatusJson } from '../support/status.ts';
import { startTopology, type Topology } from '../support/topology.ts';
import { eventually } from '../support/wait.ts';

describe('status API', () => {
  let topo: Topology;
  let mix: MixResult;
  let admin: string;
  before(async () => {
    topo = await startTopology({ store: 'redis', gateways: 2 });
    admin = topo.gateways[0]!.adminUrl;
    mix = await trafficMix(topo.entries()[0]!);
  });
  after(async () => topo?.stop());

  const status = async (url = admin) => {
    const res = await fetch(`${url}/status.json`);
    assert.equal(res.status, 200);
    return (await res.json()) as StatusJson;
  };

  test('shows every backend serving with its sessions and last-minute traffic', async () => {
    const s = await eventually('six sessions counted', async () => {
      const s = await status();
      return s.totals.sessionsBound >= 6 ? s : undefined; // six sessions (a task is in no session index)
    });
    assert.equal(s.backends.length, 3);
    for (const b of s.backends) {
      assert.equal(b.state, 'serving', b.id);
      const name = topo.backendName(b.id)!;
      const mine = [...mix.sessions.values()].filter((r) => r === name).length;
      assert.ok(b.sessions >= mine, `${name}: ${b.sessions} bindings, ${mine} sessions of the mix`);
      // initialize + initialized + two calls per session, at least.
      assert.ok(b.lastMinute.requests >= mine * 4, `${name}: ${b.lastMinute.requests} requests`);
      assert.ok(b.lastMinute.p50Ms !== null && b.lastMinute.p99Ms !== null && b.lastMinute.p99Ms >= b.lastMinute.p50Ms);
    }
    assert.equal(s.totals.eras.sessions.newSessionsPerMinute, 6);
    assert.ok(s.totals.eras.stateless.requests >= 3, 'stateless calls and the task counted');
    assert.equal(s.totals.resumes.total, 0, 'no session was resumed');
    assert.deepEqual([s.store.kind, s.store.reachable, s.store.degraded, s.store.writeBackQueue], ['redis', true, false, 0]);
    assert.deepEqual([s.discovery.mode, s.discovery.synced, s.discovery.lagBoundMs], ['static', true, 0]);
    assert.equal(s.replica.phase, 'ready');
  });

  test('lists the other gateway replica through the store', async () => {
    const other = await status(topo.gateways[1]!.adminUrl);
    const s = await eventually('both replicas listed', async () => {
      const s = await status();
      return s.replicas.length === 2 ? s : undefined;
    });
    assert.deepEqual(
      s.replicas.map((r) => [r.id, r.self]).sort(),
      [
        [s.replica.id, true],
        [other.replica.id, false],
      ].sort(),
    );
    for (const r of s.replicas) assert.equal(r.version, '0.1.0');
  });

  test('looks a real session up by its id, without the principal or the whole id', async () => {
    const [sid, replica] = [...mix.sessions][0]!;
    const res = await fetch(`${admin}/sessions/${encodeURIComponent(sid)}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(topo.backendName(body.backend as string), replica);
    assert.equal(body.kind, 'streamable');
    assert.equal(body.protocolVersion, '2025-11-25');
    assert.equal(body.principal, null, 'auth is off');
    assert.equal(body.resumes, 0);
    assert.ok((body.ttlLeftMs as number) > 0);
    assert.ok((body.lastSeenAt as number) >= (body.createdAt as number));
    assert.ok(!JSON.stringify(body).includes(sid), 'the id is not echoed whole');
    // The other replica answers the same from the shared store.
    const there = (await (await fetch(`${topo.gateways[1]!.adminUrl}/sessions/${encodeURIComponent(sid)}`)).json()) as Record<string, unknown>;
    assert.equal(there.backend, body.backend);
  });

  test('looks a task up by its id', async () => {
    const res = await fetch(`${admin}/sessions/${encodeURIComponent(mix.taskId)}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.kind, 'task');
  });

  test('answers 404 for an unknown id and 400 for one that cannot be an id', async () => {
    const unknown = await fetch(`${admin}/sessions/no-such-session`);
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: string }).error, /no binding/);
    const bad = await fetch(`${admin}/sessions/has%20space`);
    assert.equal(bad.status, 400);
  });

  test('is not served on the MCP port', async () => {
    const res = await fetch(new URL('/status.json', topo.entries()[0]!));
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(((await res.json()) as { error?: { code: number } }).error?.code !== undefined, true, 'a JSON-RPC error');
  });

  test('marks a killed backend out of rotation', async () => {
    const victim = topo.backends[2]!;
    await victim.kill();
    const b = await eventually('the killed backend marked', async () => {
      const b = (await status()).backends.find((x) => x.id === victim.url);
      return b && b.state !== 'serving' ? b : undefined;
    });
    assert.equal(b.state, 'ejected');
    assert.ok(b.stateSince !== null && b.stateSince <= Date.now());
    assert.ok(b.stateCause.length > 0);
  });

  test('a replica that shuts down leaves the list at once', async () => {
    const leaving = await status(topo.gateways[1]!.adminUrl);
    await topo.gateways[1]!.stop();
    const s = await eventually('the stopped replica gone', async () => {
      const s = await status();
      return s.replicas.some((r) => r.id === leaving.replica.id) ? undefined : s;
    });
    assert.deepEqual(s.replicas.map((r) => r.self), [true]);
  });

  test('a store outage shows as degraded, with its last error, and the page still answers', async () => {
    await topo.redis!.stop();
    const s = await eventually('the store degraded', async () => {
      const s = await status();
      return s.store.degraded && s.store.lastError !== null ? s : undefined;
    });
    assert.equal(s.store.reachable, false);
    assert.match(JSON.stringify(s.store.lastError), /"operation":"\w+"/);
    const lookup = await fetch(`${admin}/sessions/${encodeURIComponent([...mix.sessions.keys()][0]!)}`);
    assert.equal(lookup.status, 503, 'a lookup says the store is not answering, not that the session is unknown');
  });
});

describe('status page exposure', () => {
  const TOKEN = 'status-token-for-the-test-0123456789';
  const started: GatewayProcess[] = [];
  after(async () => Promise.all(started.map((g) => g.stop())));

  test('with its own token: the JSON needs it, the static page does not', async () => {
    const gw = await startGateway({ backends: ['http://127.0.0.1:9/mcp'], env: { STATUS_TOKEN: TOKEN } });
    started.push(gw);
    const none = await fetch(`${gw.adminUrl}/status.json`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    const wrong = await fetch(`${gw.adminUrl}/sessions/x`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.status, 401);
    const right = await fetch(`${gw.adminUrl}/status.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(right.status, 200);
    const page = await fetch(`${gw.adminUrl}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.ok(!gw.service.lines.join('\n').includes(TOKEN), 'the token is never logged');
  });

  test('--no-status-page turns it off', async () => {
    const gw = await startGateway({ backends: ['http://127.0.0.1:9/mcp'], args: ['--no-status-page'] });
    started.push(gw);
    assert.equal((await fetch(`${gw.adminUrl}/`)).status, 404);
    assert.equal((await fetch(`${gw.adminUrl}/status.json`)).status, 404);
    assert.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200);
  });
});
