// --session-resume (issue 16) with real processes: 3 demo backends, 2 gateway replicas on one Redis, SDK
// clients with sampling and elicitation; one backend SIGKILLed mid-run. With `reinitialize` every session
// of the dead backend goes on under its original id on a live replica, read-only calls see no error (even
// one in flight at the kill), a non-idempotent call in flight gets -32010 and is never run twice, and the
// session's next call works. With `off`, the same sessions answer 404 as before.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, type TestClient } from '../support/mcp-client.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { sessionStatus } from '../support/raw-mcp.ts';
import { REPO } from '../support/backends.ts';
import { spawnService, type Service } from '../support/process.ts';
import { startTopology, type Topology } from '../support/topology.ts';
import { eventually } from '../support/wait.ts';

const SESSIONS = 30;
const PYTHON_SESSIONS = 10;

/** The pinned virtualenv with the official Python SDK (scripts/python-venv.sh creates it once). */
function pythonWithMcp(): string {
  try {
    return execFileSync('bash', [join(REPO, 'scripts/python-venv.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (err) {
    throw new Error(`the official Python MCP SDK is needed: run scripts/python-venv.sh (needs python3 >= 3.10 with venv): ${(err as Error).message}`, { cause: err });
  }
}

interface PythonDone {
  event: 'done';
  i: number;
  first?: string;
  last?: string;
  sessionIds?: string[];
  calls?: number;
  errors: string[];
}

/** Runs of `increment` for `key`, from the side-effects file every backend appends to (survives SIGKILL). */
function runsOf(file: string, key: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  return text.split('\n').filter((l) => l && (JSON.parse(l) as { key: string }).key === key).length;
}

const OUTCOMES = ['resumed', 'replayed', 'not_replayed', 'failed'] as const;

async function resumedTotals(topo: Topology): Promise<Record<(typeof OUTCOMES)[number], number>> {
  const out = { resumed: 0, replayed: 0, not_replayed: 0, failed: 0 };
  for (const gw of topo.gateways) {
    const samples = parsePrometheus(await gw.metricsText());
    for (const outcome of OUTCOMES) out[outcome] += metricSum(samples, 'mcp_gateway_sessions_resumed_total', { outcome });
  }
  return out;
}

describe('session resume: a backend SIGKILLed mid-run, 2 gateways, redis', () => {
  let topo: Topology;
  let dir: string;
  let effects: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'resume-'));
    effects = join(dir, 'side-effects.jsonl');
    // A generous store timeout: 40 sessions on a shared 2-core machine; store outages are another test's subject.
    topo = await startTopology({ store: 'redis', gatewayArgs: ['--session-resume', 'reinitialize', '--store-timeout', '5s', '--backend-refused-grace', '1s'], backendArgs: ['--side-effects-file', effects] });
  });
  after(async () => {
    await topo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every session of the dead backend goes on with its id; only safe calls are sent again', async () => {
    const before0 = await resumedTotals(topo);
    assert.deepEqual(before0, { resumed: 0, replayed: 0, not_replayed: 0, failed: 0 }, 'every outcome series exists from the first scrape, at 0');

    const clients: TestClient[] = [];
    for (let i = 0; i < SESSIONS; i++) clients.push(await connectClient(() => topo.entries(), { name: `resume-${i}` }));
    const home = new Map<TestClient, string>();
    const ids = new Map<TestClient, string>();
    for (const c of clients) {
      home.set(c, (await c.call<{ replica: string }>('whoami')).replica);
      ids.set(c, c.sessionId());
      // The gateway learns the tools' hints (peek: readOnlyHint) from tools/list as it passes.
      await c.client.listTools();
      // Sampling and elicitation work before the kill...
      assert.equal((await c.call<{ answer: string }>('ask_model', { prompt: 'hi' })).answer, 'model says: hi');
    }
    const victims = clients.filter((c) => home.get(c) === 'b');
    assert.ok(victims.length >= 3, `enough sessions live on b (${victims.length})`);
    const [unsafe, safe] = victims as [TestClient, TestClient];

    // 10 sessions of the official Python SDK in the same run, spread over both gateways.
    const stopFile = join(dir, 'python-stop');
    const py: Service = await spawnService(pythonWithMcp(), [join(REPO, 'test/support/python/resume_clients.py'), ...topo.entries(), '--sessions', String(PYTHON_SESSIONS), '--stop-file', stopFile], { cwd: REPO });
    const pyReady = await eventually('the Python sessions to be ready', () => {
      const ready = py.json().filter((l) => l.event === 'ready');
      return ready.length === PYTHON_SESSIONS && ready;
    }, { timeoutMs: 120_000 });
    const pyOnB = pyReady.filter((l) => l.replica === 'b').length;

    // Read-only traffic on every session, throughout the kill: none of it may fail.
    let running = true;
    const errors: string[] = [];
    const background = clients
      .filter((c) => c !== unsafe && c !== safe)
      .map(async (c, i) => {
        let calls = 0;
        while (running) {
          try {
            if (i % 3 === 0) await c.client.ping();
            else if (i % 3 === 1) await c.client.listTools();
            else await c.call('peek', { key: 'background' });
            calls++;
          } catch (err) {
            errors.push(`${c.sessionId().slice(0, 8)}: ${(err as Error).message}`);
          }
          await new Promise((r) => setTimeout(r, 20)); // pacing the workload, not waiting for a state
        }
        return calls;
      });

    // In flight at the kill: a call with a side effect (already run on b, not answered) and a read-only one.
    const unsafeCall = unsafe.call('increment', { key: 'in-flight', ms: 60_000 });
    const safeCall = safe.call<{ replica: string }>('peek', { key: 'in-flight', ms: 5_000 });
    unsafeCall.catch(() => undefined);
    await eventually('the side-effect call to run on b', () => runsOf(effects, 'in-flight') === 1);
    await topo.backends.find((b) => b.name === 'b')!.kill();

    const err = await unsafeCall.then(
      () => assert.fail('a non-idempotent call in flight at the kill must not be answered as if it ran once'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof McpError, `the in-flight call gets a JSON-RPC error (${String(err)})`);
    assert.equal(err.code, -32010, 'the documented code: it may or may not have run');
    const safeAnswer = await safeCall.catch((e: unknown) => {
      const why = topo.gateways.flatMap((g) => g.service.json().filter((l) => l.level === 'warn' || l.level === 40));
      assert.fail(`the read-only call in flight must be answered, not fail (${String(e)}); gateway warnings: ${JSON.stringify(why.slice(-20))}`);
    });
    assert.notEqual(safeAnswer.replica, 'b', 'the read-only call in flight was answered by a live replica');

    for (const v of victims) {
      const after = await v.call<{ replica: string }>('whoami');
      assert.notEqual(after.replica, 'b', 'the session goes on on a live replica');
      assert.equal(v.sessionId(), ids.get(v), 'under its original session id');
      // ...and after the resume, sampling and elicitation reach the client through the new upstream session.
      assert.equal((await v.call<{ answer: string }>('ask_user', { question: 'still there?' })).answer, 'user says: still there?');
    }
    // The unsafe call's session works on, and the gateway never ran the call a second time.
    assert.equal((await unsafe.call<{ runs: number }>('increment', { key: 'after' })).runs, 1);
    assert.equal(runsOf(effects, 'in-flight'), 1, 'the side-effect call ran exactly once: on b, before the kill');

    running = false;
    writeFileSync(stopFile, 'stop');
    const pyDone = (await eventually('the Python sessions to finish', () => py.json().some((l) => l.event === 'finished') && py.json(), { timeoutMs: 120_000 })).filter(
      (l) => l.event === 'done',
    ) as unknown as PythonDone[];
    await py.stop();
    assert.equal(pyDone.length, PYTHON_SESSIONS);
    for (const d of pyDone) {
      assert.deepEqual(d.errors, [], `Python session ${d.i} saw no error`);
      assert.equal(d.sessionIds?.length, 1, 'a Python session sends one Mcp-Session-Id all along');
      assert.notEqual(d.last, 'b');
      assert.ok((d.calls ?? 0) > 0);
    }
    const counts = await Promise.all(background);
    assert.deepEqual(errors, [], 'no read-only call saw an error');
    assert.ok(counts.every((n) => n > 0), 'every session kept working throughout');
    for (const c of clients.filter((x) => home.get(x) !== 'b')) {
      assert.equal((await c.call<{ replica: string }>('whoami')).replica, home.get(c), 'sessions of live replicas stay where they were');
    }

    const totals = await resumedTotals(topo);
    assert.equal(totals.resumed, victims.length + pyOnB, 'each session of b (TypeScript and Python) resumed exactly once, across both gateways');
    assert.equal(totals.failed, 0);
    assert.ok(totals.not_replayed >= 1, 'the side-effect call counted as not replayed');
    assert.ok(totals.replayed >= 1, 'requests that found their session lost were sent on');
    const logged = topo.gateways.flatMap((g) => g.service.json().filter((l) => l.msg === 'session resumed on another backend'));
    assert.equal(logged.length, victims.length + pyOnB, 'one log line per resume');
    assert.ok(logged.every((l) => topo.backendName(l.from as string) === 'b' && topo.backendName(l.to as string) !== 'b'), 'naming the old and the new backend');
    await Promise.all(clients.map((c) => c.close()));
  });
});

describe('session resume off (the default): a backend SIGKILLed, 2 gateways, redis', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({ store: 'redis' });
  });
  after(async () => topo?.stop());

  test('the sessions of the dead backend answer 404, as before', async () => {
    const clients: TestClient[] = [];
    for (let i = 0; i < 9; i++) clients.push(await connectClient(() => topo.entries()));
    const home = new Map<TestClient, string>();
    for (const c of clients) home.set(c, (await c.call<{ replica: string }>('whoami')).replica);
    const victims = clients.filter((c) => home.get(c) === 'b');
    assert.ok(victims.length > 0);
    await topo.backends.find((b) => b.name === 'b')!.kill();
    // Each replica answers 503 (session kept) while the backend is only suspected there, and 404 once that
    // replica (or another, through the store) has the proof: refused for the whole grace (README "Reliability").
    for (const v of victims) {
      for (const entry of topo.entries()) {
        const last = await eventually(`404 for a session of the killed backend through ${entry}`, async () => {
          const s = await sessionStatus(entry, v.sessionId());
          return s.status === 503 ? undefined : s;
        }, { timeoutMs: 20_000 });
        assert.deepEqual(last, { status: 404, code: -32001 });
      }
    }
    const totals = await resumedTotals(topo);
    assert.equal(totals.resumed + totals.replayed + totals.not_replayed + totals.failed, 0, 'nothing is resumed when resume is off');
    await Promise.all(clients.map((c) => c.close()));
  });
});
