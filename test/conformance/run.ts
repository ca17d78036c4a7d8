// `npm run test:conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
// package.json) judges the gateway. For each requirement set (2025-11-25, 2026-07-28) it runs the server
// scenarios twice: against one everything-server replica directly, and through the gateway in front of two
// replicas (Redis store; the replicas share their requestState key and change-event bus, as a fleet must).
// Every scenario that passes directly must pass through the gateway; otherwise this exits 1.
//   CONFORMANCE_OUT (default .tmp/conformance) receives the suite's per-scenario results and summary.json.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newStateKey, REPO } from '../support/backends.ts';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { spawnService, type Service } from '../support/process.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { compare, readRun, report, type Comparison } from './results.ts';

const REQUIREMENTS = ['2025-11-25', '2026-07-28'] as const;
const REPLICAS = 2;
const out = join(REPO, process.env.CONFORMANCE_OUT ?? '.tmp/conformance');
const cli = join(REPO, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

async function startReplica(name: string, env: Record<string, string>): Promise<Service & { url: string }> {
  const svc = await spawnService(process.execPath, ['test/conformance/everything-server.ts', '--port', '0', '--name', name], {
    cwd: REPO,
    env,
    ready: (l) => l.event === 'listening',
  });
  const ready = await svc.waitFor((l) => l.event === 'listening');
  return Object.assign(svc, { url: ready.url as string });
}

/** Runs the suite once; its exit code only says that some check failed, which the comparison judges. */
function runSuite(url: string, requirements: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'server', '--url', url, '--requirements', requirements, '-o', dir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const log: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => log.push(c));
    child.stderr.on('data', (c: Buffer) => log.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(timer);
      writeFileSync(`${dir}.log`, Buffer.concat(log));
      resolve();
    });
  });
}

async function main(): Promise<number> {
  rmSync(out, { recursive: true, force: true });
  const started: Array<{ stop(): Promise<unknown> }> = [];
  try {
    const redis: RedisServer = await startRedis();
    started.push(redis);
    const env = { MCP_STATE_KEY: newStateKey(), REDIS_URL: redis.url };
    const replicas = await Promise.all(Array.from({ length: REPLICAS }, (_, i) => startReplica(`r${i + 1}`, env)));
    started.push(...replicas);
    const gateway: GatewayProcess = await startGateway({ backends: replicas.map((r) => r.url), redisUrl: redis.url });
    started.unshift(gateway);

    const comparisons: Comparison[] = [];
    for (const requirements of REQUIREMENTS) {
      const base = join(out, requirements);
      await runSuite(replicas[0]!.url, requirements, join(base, 'direct'));
      await runSuite(gateway.mcpUrl, requirements, join(base, 'gateway'));
      const c = compare(requirements, readRun(join(base, 'direct')), readRun(join(base, 'gateway')));
      comparisons.push(c);
      process.stdout.write(`${report(c)}\n`);
    }
    const summary = comparisons.map((c) => ({
      requirements: c.requirements,
      direct: { scenarios: c.direct.scenarios.size, passed: c.direct.passedScenarios, checks: c.direct.totalChecks, checksPassed: c.direct.passedChecks },
      gateway: { scenarios: c.gateway.scenarios.size, passed: c.gateway.passedScenarios, checks: c.gateway.totalChecks, checksPassed: c.gateway.passedChecks },
      regressions: c.regressions.map((r) => r.scenario),
    }));
    writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

    const ran = comparisons.every((c) => c.direct.scenarios.size > 0 && c.gateway.scenarios.size > 0);
    const regressions = comparisons.reduce((n, c) => n + c.regressions.length, 0);
    if (!ran) process.stdout.write('FAIL: the suite did not run (see the .log files next to the results)\n');
    else if (regressions > 0) process.stdout.write(`FAIL: ${regressions} scenario(s) pass against one replica but not through the gateway\n`);
    else process.stdout.write(`OK: every scenario that passes against one replica passes through the gateway (results in ${out})\n`);
    return ran && regressions === 0 ? 0 : 1;
  } finally {
    for (const s of started) await s.stop().catch(() => undefined);
  }
}

const code = await main().catch((err: unknown) => {
  process.stderr.write(`conformance run failed: ${(err as Error).stack ?? String(err)}\n`);
  return 1;
});
// Exiting kills whatever a failed start left running (test/support/process.ts stops children on exit).
process.exit(code);
