// SessionRecovery against two real demo backends (official SDK): the one holding a session is found with a
// ping, and a made-up id is asked once and then remembered as a miss.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { BackendRegistry } from '../../gateway/src/backends/registry.ts';
import { SessionRecovery, type RecoveryResult } from '../../gateway/src/routing/session-recovery.ts';
import { mcpRequestsSeen } from '../support/auth.ts';
import { startBackends, type BackendProcess } from '../support/backends.ts';
import { rawSession } from '../support/raw-mcp.ts';
import { eventually } from '../support/wait.ts';

let backends: BackendProcess[];
let registry: BackendRegistry;
const results: RecoveryResult[] = [];
let recovery: SessionRecovery;
before(async () => {
  backends = await startBackends(['a', 'b'], ['--log-requests']);
  registry = new BackendRegistry({ connectTimeoutMs: 2000, headersTimeoutMs: 5000 }, pino({ level: 'silent' }));
  registry.update(backends.map((b) => ({ id: b.name, url: new URL(b.url), ready: true, draining: false })));
  recovery = new SessionRecovery(registry, { timeoutMs: 5000, negativeTtlMs: 60_000, maxInFlight: 4 }, (r) => results.push(r));
});
after(async () => {
  await registry?.close();
  await Promise.all(backends.map((b) => b.stop()));
});

const ctx = { protocolVersion: '2025-11-25', identityHeaders: {} };

test('the backend holding the session answers the ping: it is found', async () => {
  const sid = await rawSession(backends[1]!.url);
  const found = await recovery.find(sid, ctx);
  assert.equal(typeof found === 'string' ? found : found.id, 'b');
  assert.equal(results.at(-1), 'recovered');
});

test('a made-up id is probed once, then answered from the remembered miss', async () => {
  const probes = () => mcpRequestsSeen(backends).length;
  const before = probes();
  assert.equal(await recovery.find('made-up-id', ctx), 'not_found');
  // The backends log each request as it arrives; their lines reach this process on their own schedule.
  await eventually('one ping per backend logged', () => probes() - before >= 2 || undefined);
  const afterFirst = probes();
  assert.equal(afterFirst - before, 2, 'one ping per backend');
  assert.equal(await recovery.find('made-up-id', ctx), 'not_found');
  assert.equal(probes(), afterFirst, 'no second round');
  assert.equal(results.at(-1), 'not_found');
});
