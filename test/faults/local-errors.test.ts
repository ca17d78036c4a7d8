// The gateway's own failures never count against a backend. A real EADDRNOTAVAIL (the gateway's ephemeral
// ports used up) is made in a network namespace of its own, where the port range can be narrowed without
// touching the host: netns-port-exhaustion.ts runs there under `unshare -rn` (util-linux) after `ip link set
// lo up` (iproute2), with everything it starts, and reports what it saw.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO } from '../support/backends.ts';

const run = promisify(execFile);

async function inOwnNetwork(script: string): Promise<Map<string, unknown>> {
  let stdout: string;
  try {
    ({ stdout } = await run('unshare', ['-rn', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" ${script}`], { cwd: REPO, timeout: 240_000 }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error("this test needs `unshare` (util-linux) and `ip` (iproute2) on the PATH", { cause: err });
    if (/Operation not permitted|cannot open|unshare failed/i.test(e.stderr ?? '')) {
      throw new Error(`this test needs user and network namespaces (root, or kernel.unprivileged_userns_clone=1 and no AppArmor restriction): ${e.stderr}`, { cause: err });
    }
    throw new Error(`the scenario failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: err });
  }
  const seen = new Map<string, unknown>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"what"')) continue;
    const { what, value } = JSON.parse(line) as { what: string; value: unknown };
    seen.set(what, value);
  }
  return seen;
}

test('EADDRNOTAVAIL (no ephemeral port left) neither ejects the backend nor loses a session: 503, then business as usual', async () => {
  const seen = await inOwnNetwork('test/faults/netns-port-exhaustion.ts');
  assert.equal(seen.get('before'), 200);
  assert.ok((seen.get('held') as number) >= 1, 'the namespace ran out of ports');
  const during = seen.get('during') as { status: number; retryAfter: string | null; body: { id: number; error: { data: { reason: string } } } };
  assert.equal(during.status, 503, "the session's request: 503, not 404 (its session is kept) and not 502");
  assert.equal(during.retryAfter, '1');
  assert.equal(during.body.id, 4);
  assert.equal(during.body.error.data.reason, 'local_resources');
  assert.equal((seen.get('initialize') as { status: number }).status, 503, 'a new session: 503, nothing reached a backend');
  assert.equal(seen.get('probeError'), 'EADDRNOTAVAIL', 'the probes met the real error');
  for (const name of ['gateway', 'prober']) {
    const m = seen.get(name) as { state: string; ejections: number; lost: number; local: number };
    assert.deepEqual({ state: m.state, ejections: m.ejections, lost: m.lost }, { state: 'serving', ejections: 0, lost: 0 }, `${name}: no verdict against the backend`);
  }
  assert.ok((seen.get('gateway') as { local: number }).local >= 2, "counted as the gateway's own failures (upstream_errors kind=local)");
  assert.equal(seen.get('after'), 200, 'the same session answers once ports are free again');
  assert.equal(seen.get('afterProber'), 200);
});
