// --workers 2: two gateway processes on one port (SO_REUSEPORT on Linux), the admin port for both, a worker
// that dies is replaced while the port keeps answering, and SIGTERM stops them all. Real processes:
// redis-server, the demo backend on the official SDK, the gateway command.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startBackends, type BackendProcess } from '../support/backends.ts';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { MCP_HEADERS, rpc } from '../support/raw-mcp.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { eventually } from '../support/wait.ts';

interface Readyz {
  ready: boolean;
  workers: Array<{ worker: number; pid: number; ready: boolean }>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The gateway's children (its workers), from /proc. */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text ? text.split(' ').map(Number) : [];
}

/** A POST on a connection of its own: the kernel spreads new connections over the workers' sockets. */
function postFresh(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; sid: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { ...MCP_HEADERS, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sid: res.headers['mcp-session-id'] as string | undefined, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** initialize, initialized and a tool call, each on a new connection (so likely on different workers). */
async function sessionAndCall(url: string): Promise<void> {
  const init = await postFresh(url, rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'w', version: '1' } }));
  assert.equal(init.status, 200, init.text);
  assert.ok(init.sid);
  const session = { 'mcp-session-id': init.sid, 'mcp-protocol-version': '2025-11-25' };
  assert.equal((await postFresh(url, rpc('notifications/initialized', {}, null), session)).status, 202);
  const call = await postFresh(url, rpc('tools/call', { name: 'whoami', arguments: {} }, 2), session);
  assert.equal(call.status, 200, call.text);
  assert.match(call.text, /"replica":"a"/);
}

describe('--workers 2', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let backends: BackendProcess[];
  let gw: GatewayProcess;

  before(async () => {
    redis = await startRedis();
    backends = await startBackends(['a']);
    gw = await startGateway({ backends: backends.map((b) => b.url), redisUrl: redis.url, args: ['--workers', '2', '--shutdown-timeout', '3s'] });
  });
  after(async () => {
    await gw?.stop();
    await Promise.allSettled((backends ?? []).map((b) => b.stop()));
    await redis?.stop();
  });

  test('two worker processes serve the port; /readyz lists both; sessions work whichever worker a request reaches', async () => {
    const pid = gw.service.proc.pid as number;
    const workers = await eventually('two workers', () => (childrenOf(pid).length === 2 ? childrenOf(pid) : undefined));
    const readyz = await gw.admin<Readyz>('/readyz');
    assert.equal(readyz.ready, true);
    assert.deepEqual(readyz.workers.map((w) => w.pid).sort(), [...workers].sort());
    for (let i = 0; i < 8; i++) await sessionAndCall(gw.mcpUrl);
    // Each worker is a gateway of its own (instance id in its access log lines): both served requests. Access
    // lines are written in batches (a fraction of a second late), so they are waited for.
    const toolCallInstances = () => new Set(gw.service.json().filter((l) => l.method === 'tools/call' && typeof l.instance === 'string').map((l) => l.instance));
    await eventually('tool-call lines from both workers', () => toolCallInstances().size >= 2, { timeoutMs: 5000 }).catch(() => undefined);
    const instances = toolCallInstances();
    assert.equal(instances.size, 2, `tool calls served by ${[...instances].join(', ')}`);
    const health = await gw.admin<{ status: string; workers: number }>('/healthz');
    assert.deepEqual(health, { status: 'ok', workers: 2 });
    const backendsView = await gw.admin<Array<{ url: string; healthy: boolean }>>('/backends');
    assert.equal(backendsView.length, 1);
    assert.equal(backendsView[0]?.healthy, true);
  });

  test('/metrics on the admin port adds up every worker', async () => {
    const before = metricSum(parsePrometheus(await gw.metricsText()), 'mcp_gateway_requests_total', { method: 'tools/call' });
    for (let i = 0; i < 6; i++) await sessionAndCall(gw.mcpUrl);
    const samples = parsePrometheus(await gw.metricsText());
    assert.equal(metricSum(samples, 'mcp_gateway_requests_total', { method: 'tools/call' }) - before, 6, 'every tool call counted once, whichever worker served it');
    // The store's session count is the same on both workers: shown once, not doubled.
    const active = metricSum(samples, 'mcp_gateway_sessions_active');
    assert.ok(active >= 14 && active < 28, `sessions active ${active}`);
  });

  test('a worker killed with SIGKILL is replaced, and the port keeps answering', async () => {
    const pid = gw.service.proc.pid as number;
    const [victim, survivor] = childrenOf(pid) as [number, number];
    process.kill(victim, 'SIGKILL');
    await eventually('the worker is gone', () => !alive(victim));
    // Meanwhile the survivor answers every new connection.
    for (let i = 0; i < 4; i++) await sessionAndCall(gw.mcpUrl);
    const replaced = await eventually(
      'a new worker is ready',
      async () => {
        const r = await gw.admin<Readyz>('/readyz');
        const pids = r.workers.filter((w) => w.ready).map((w) => w.pid);
        return pids.length === 2 && !pids.includes(victim) ? pids : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.ok(replaced.includes(survivor));
    for (let i = 0; i < 4; i++) await sessionAndCall(gw.mcpUrl);
    assert.ok(gw.service.json().some((l) => l.msg === 'worker exited: starting another' && l.pid === victim));
  });

  test('SIGTERM stops every worker gracefully and the command exits 0', async () => {
    const pid = gw.service.proc.pid as number;
    const workers = childrenOf(pid);
    assert.equal(workers.length, 2);
    const code = await gw.stop();
    assert.equal(code, 0);
    for (const w of workers) assert.equal(alive(w), false, `worker ${w} stopped`);
    assert.equal(gw.service.json().filter((l) => l.msg === 'shut down' && l.worker !== undefined).length, 2, 'both workers shut down gracefully');
  });
});
