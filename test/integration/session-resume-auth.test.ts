// --session-resume with auth on (issue 16 §2): a resumed session keeps its principal, the new upstream
// session is opened with the creator's forwarded identity, and another principal presenting the id neither
// gets the session nor triggers a resume.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { rawCall, rawSession, sessionStatus } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';

const keys = { alice: randomBytes(32).toString('hex'), bob: randomBytes(32).toString('hex') };
const digest = (k: string) => createHash('sha256').update(k).digest('hex');
const auth = (k: string) => ({ authorization: `Bearer ${k}` });

describe('session resume with auth on (api keys, 2 gateways, redis)', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({
      store: 'redis',
      gatewayArgs: ['--session-resume', 'reinitialize', '--backend-refused-grace', '1s', '--auth', 'api-key', '--resource-url', 'https://mcp.example.com/mcp'],
      gatewayEnv: { AUTH_API_KEYS: `alice sha256:${digest(keys.alice)};bob sha256:${digest(keys.bob)}` },
    });
  });
  after(async () => topo?.stop());

  async function resumed(): Promise<number> {
    let n = 0;
    for (const g of topo.gateways) n += metricSum(parsePrometheus(await g.metricsText()), 'mcp_gateway_sessions_resumed_total', { outcome: 'resumed' });
    return n;
  }

  test('the session is resumed for its creator only, with the creator\'s identity', async () => {
    const [g0, g1] = topo.entries() as [string, string];
    const sid = await rawSession(g0, auth(keys.alice));
    const home = (await rawCall(g0, sid, 'whoami', {}, auth(keys.alice))).result?.replica as string;
    await topo.backends.find((b) => b.name === home)!.kill();

    // Someone else's session answers exactly like an unknown one, and is not resumed for them.
    const status = await fetch(g1, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25', ...auth(keys.bob) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(status.status, 404);
    await status.text();
    assert.equal(await resumed(), 0, 'another principal never triggers a resume');

    const echoed = await rawCall(g1, sid, 'echo_headers', {}, auth(keys.alice));
    assert.equal(echoed.status, 200);
    const seen = echoed.result as { replica: string; headers: Record<string, string> };
    assert.notEqual(seen.replica, home, 'resumed on a live replica');
    assert.equal(seen.headers['x-auth-subject'], 'alice', 'the backend sees the creator');
    assert.equal(seen.headers.authorization, undefined, "the client's token never reaches a backend");
    assert.equal(await resumed(), 1);
    // The new upstream session was opened with alice's identity: the demo backend answers only its creator.
    assert.equal((await rawCall(g0, sid, 'whoami', {}, auth(keys.alice))).status, 200);
    assert.deepEqual(await sessionStatus(g0, sid), { status: 401, code: -32000 }, 'no token: refused before any session lookup');
  });
});
