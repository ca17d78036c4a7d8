// The Dockerfile, built without Docker (no engine runs here): its stages run in a clean temp folder through
// test/k8s/support/dockerfile.ts, and the results must be images that work: the gateway image holds
// production dependencies only and starts, serves MCP through the demo image's backend, and drains and exits 0
// on SIGTERM as Kubernetes sends it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO } from '../../support/backends.ts';
import { spawnService, type Service } from '../../support/process.ts';
import { rawCall, rawSession } from '../../support/raw-mcp.ts';
import { buildOutsideDocker, listFiles, parseDockerfile, type BuiltStage } from '../support/dockerfile.ts';

/** The images' Node is /nodejs/bin/node (distroless); here the repository's pinned Node 26 stands in. */
function command(stage: BuiltStage, extra: string[]): [string, string[]] {
  const [exe, ...rest] = [...stage.entrypoint, ...stage.cmd, ...extra];
  assert.equal(exe, '/nodejs/bin/node', 'the image runs node directly (exec form), as PID 1');
  return [process.execPath, rest];
}

describe('Dockerfile, built outside Docker', () => {
  let out: string;
  let stages: Map<string, BuiltStage>;
  const running: Service[] = [];
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'mcpgw-image-'));
    const steps: string[] = [];
    const started = Date.now();
    stages = buildOutsideDocker(parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')), {
      context: REPO,
      out,
      // npm and node as the build stage has them; the npm cache makes the installs quick and repeatable.
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
      log: (l) => steps.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${l}`),
    });
    process.stdout.write(`# built ${stages.size} stages in ${((Date.now() - started) / 1000).toFixed(1)} s; steps started at:\n${steps.map((s) => `#   ${s}`).join('\n')}\n`);
  });
  after(async () => {
    await Promise.allSettled(running.map((s) => s.stop()));
    if (out) rmSync(out, { recursive: true, force: true });
  });

  test('stages: build, prod-deps, demo, and the gateway last (the default target)', () => {
    assert.deepEqual([...stages.keys()], ['build', 'prod-deps', 'demo', 'gateway']);
  });

  test('the gateway image holds the compiled gateway and production dependencies only, as a non-root user', () => {
    const gw = stages.get('gateway')!;
    const app = join(gw.root, 'app');
    const top = [...new Set(listFiles(app).map((f) => (f.startsWith('dist/') ? f.split('/').slice(0, 2).join('/') : f.split('/')[0])))].sort();
    assert.deepEqual(top, ['bin', 'dist/gateway', 'node_modules', 'package.json']);
    // Installed packages, as lockfile paths (node_modules/a, node_modules/a/node_modules/b, ...).
    const installed = new Set(
      listFiles(join(app, 'node_modules'))
        .filter((f) => f.endsWith('/package.json'))
        .map((f) => `node_modules/${f.slice(0, -'/package.json'.length)}`)
        .filter((p) => lock.packages[p] !== undefined),
    );
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(installed.has(`node_modules/${dep}`), `dependency ${dep} is in the image`);
    // The lockfile marks what only devDependencies need (dev: true): none of it may ship.
    const devOnly = [...installed].filter((p) => lock.packages[p]?.dev === true);
    assert.deepEqual(devOnly, [], 'packages only devDependencies need');
    assert.ok(installed.size < Object.keys(lock.packages).length / 2, `${installed.size} packages installed`);
    assert.ok(!listFiles(join(app, 'dist')).some((f) => f.includes('/demo/') || f.startsWith('demo')), 'no demo code in the gateway image');
    assert.equal(gw.user, '65532:65532');
    assert.deepEqual(gw.exposed, ['8080', '9090']);
    const kb = Number(execFileSync('du', ['-sk', app], { encoding: 'utf8' }).split('\t')[0]);
    process.stdout.write(`# gateway image /app: ${(kb / 1024).toFixed(1)} MiB (plus the distroless Node base)\n`);
    // A bound, not a benchmark: dev packages, typings or source maps creeping back in would cross it.
    assert.ok(kb < 80 * 1024, `the gateway's /app is ${(kb / 1024).toFixed(1)} MiB; it was 59 MiB with typings and maps stripped`);
  });

  test('the build context holds only what .dockerignore lets through', () => {
    const build = join(stages.get('build')!.root, 'app');
    const copied = listFiles(build).filter((f) => !f.startsWith('node_modules/') && !f.startsWith('dist/'));
    for (const f of copied) assert.match(f, /^(package\.json|package-lock\.json|tsconfig(\.build)?\.json|gateway\/|demo\/)/, `${f} was copied`);
    assert.ok(copied.some((f) => f.startsWith('gateway/src/')), 'the sources were copied');
  });

  test('the gateway starts, serves MCP through the demo image backend, and exits 0 on SIGTERM', async () => {
    const demo = stages.get('demo')!;
    const [demoExe, demoArgs] = command(demo, []);
    const backend = await spawnService(demoExe, demoArgs, {
      cwd: join(demo.root, 'app'),
      env: { ...demo.env, HOST: '127.0.0.1', PORT: '0', REPLICA_NAME: 'demo-image' },
      ready: (l) => l.event === 'listening',
    });
    running.push(backend);
    const backendUrl = (await backend.waitFor((l) => l.event === 'listening')).url as string;

    const gw = stages.get('gateway')!;
    const [exe, args] = command(gw, ['--backends', backendUrl, '--host', '127.0.0.1', '--port', '0', '--admin-host', '127.0.0.1', '--admin-port', '0', '--drain-delay', '200ms']);
    const version = execFileSync(exe, [...args.slice(0, 1), '--version'], { cwd: join(gw.root, 'app'), encoding: 'utf8' });
    assert.equal(version.trim(), pkg.version);
    const gateway = await spawnService(exe, args, { cwd: join(gw.root, 'app'), env: gw.env, ready: (l) => l.msg === 'gateway listening' });
    running.push(gateway);
    const ready = await gateway.waitFor((l) => l.msg === 'gateway listening');
    const url = `http://127.0.0.1:${ready.mcpPort as number}/mcp`;
    const sid = await rawSession(url);
    const who = await rawCall(url, sid, 'whoami');
    assert.equal(who.result?.replica, 'demo-image');
    assert.equal((await fetch(`http://127.0.0.1:${ready.adminPort as number}/readyz`)).status, 200);

    assert.equal(await gateway.stop(), 0, 'SIGTERM (one, as the kubelet sends it): drained and exited 0');
    assert.ok(gateway.json().some((l) => l.msg === 'shut down'));
  });
});
