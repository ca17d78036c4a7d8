// The scenario one official SDK runs on both sides of the gateway (issue 15): its server as 3 backend
// replicas, its client opening sessions whose requests alternate between 2 gateway replicas (one Redis), over
// Streamable HTTP and the 2024-11-05 HTTP+SSE transport; then a killed backend's sessions answer 404.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../support/wait.ts';
import { assertSessions, sessionStatus, startFleet, type Fleet } from './fleet.ts';
import { runSdkClient, startSdkServers, type Sdk } from './sdks.ts';

const SESSIONS = 6;
const ROUNDS = 2;

export function sdkBothSides(sdk: Sdk): void {
  describe(`${sdk} SDK server and client through two gateway replicas`, () => {
    let fleet: Fleet;
    before(async () => {
      fleet = await startFleet(await startSdkServers(sdk, ['r1', 'r2', 'r3']));
    });
    after(async () => fleet?.stop());

    for (const transport of ['streamable', 'sse'] as const) {
      test(`${transport}: sticky sessions, every server request answered, sessions on every replica`, async () => {
        const reports = await runSdkClient(sdk, { entries: fleet.origins, transport, sessions: SESSIONS, rounds: ROUNDS });
        assertSessions(reports, { sessions: SESSIONS, rounds: ROUNDS, fleet });
      });
    }

    test('streamable: a killed backend replica takes its sessions (404 through either gateway), the rest live on', async () => {
      const reports = await runSdkClient(sdk, { entries: fleet.origins, transport: 'streamable', sessions: SESSIONS, rounds: 1, keep: true });
      const home = assertSessions(reports, { sessions: SESSIONS, rounds: 1, fleet, allReplicas: false });
      const victim = [...home.values()][0] as string;
      await fleet.backends.find((b) => b.name === victim)!.kill();
      for (const [sid, replica] of home) {
        for (const url of fleet.mcpUrls) {
          if (replica === victim) {
            const r = await eventually(`session of the killed ${victim} answers 404`, async () => {
              const s = await sessionStatus(url, sid);
              return s.status === 404 ? s : undefined;
            });
            assert.deepEqual(r, { status: 404, code: -32001 });
          } else {
            assert.equal((await sessionStatus(url, sid)).status, 200, `a session on ${replica} lives on`);
          }
        }
      }
    });
  });
}
