// Cross pairs through the gateway (issue 15): a client of one official SDK, servers of another, two gateway
// replicas on one Redis, each session's requests alternating between them. TypeScript client -> Python
// servers, Python client -> Go servers, Go client -> TypeScript servers (the demo backend).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBackends } from '../support/backends.ts';
import { connectClient, type TestClient } from '../support/mcp-client.ts';
import { assertSessions, startFleet, type Fleet } from './fleet.ts';
import { runSdkClient, startSdkServers, type Sdk } from './sdks.ts';

const SESSIONS = 6;
const ROUNDS = 2;

describe('TypeScript client -> Python servers', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet(await startSdkServers('python', ['r1', 'r2', 'r3']));
  });
  after(async () => fleet?.stop());

  test('streamable: sticky sessions, sampling and elicitation answered, sessions on every replica', async () => {
    const clients: TestClient[] = [];
    try {
      for (let i = 0; i < SESSIONS; i++) clients.push(await connectClient(fleet.mcpUrls, { name: `ts-${i}` }));
      const homes = new Set<string>();
      for (const c of clients) {
        const replicas: string[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          replicas.push((await c.call<{ replica: string }>('whoami')).replica);
          const model = await c.call<{ replica: string; answer: string }>('ask_model', { prompt: `q${r}` });
          assert.equal(model.answer, `model says: q${r}`);
          const user = await c.call<{ replica: string; answer: string }>('ask_user', { question: `u${r}` });
          assert.equal(user.answer, `user says: u${r}`);
          replicas.push(model.replica, user.replica);
        }
        assert.equal(new Set(replicas).size, 1, `every answer of a session from one replica: ${replicas.join(',')}`);
        assert.deepEqual(c.answered, { sampling: ROUNDS, elicitation: ROUNDS });
        assert.equal(new Set(c.entries).size, 2, "the session's requests went through both gateways");
        homes.add(replicas[0] as string);
      }
      assert.deepEqual([...homes].sort(), ['r1', 'r2', 'r3'], 'sessions on every replica');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

function sdkClientAgainst(client: Sdk, serverName: string, start: () => Promise<Fleet>): void {
  describe(`${client} client -> ${serverName} servers`, () => {
    let fleet: Fleet;
    before(async () => {
      fleet = await start();
    });
    after(async () => fleet?.stop());
    for (const transport of ['streamable', 'sse'] as const) {
      test(`${transport}: sticky sessions, every server request answered, sessions on every replica`, async () => {
        const reports = await runSdkClient(client, { entries: fleet.origins, transport, sessions: SESSIONS, rounds: ROUNDS });
        assertSessions(reports, { sessions: SESSIONS, rounds: ROUNDS, fleet });
      });
    }
  });
}

sdkClientAgainst('python', 'Go', async () => startFleet(await startSdkServers('go', ['r1', 'r2', 'r3'])));
sdkClientAgainst('go', 'TypeScript', async () => startFleet(await startBackends(['r1', 'r2', 'r3'])));
