// The topology every interop scenario runs on: backend replicas (any SDK), one redis-server, and two gateway
// replicas sharing it, so that a session's requests can alternate between gateways. And the assertions every
// scenario makes about the sessions an SDK client reports.
import assert from 'node:assert/strict';
import type { BackendProcess } from '../support/backends.ts';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { eventually } from '../support/wait.ts';
import type { SessionReport } from './sdks.ts';

export interface Fleet {
  backends: BackendProcess[];
  redis: RedisServer;
  gateways: GatewayProcess[];
  /** Gateway origins (http://127.0.0.1:port). */
  origins: string[];
  /** Gateway MCP endpoint URLs. */
  mcpUrls: string[];
  stop(): Promise<void>;
}

/** Starts redis and two gateway replicas in front of `backends`; the fleet stops the backends too. */
export async function startFleet(backends: BackendProcess[], gatewayArgs: string[] = [], gatewayEnv?: Record<string, string>): Promise<Fleet> {
  const started: Array<{ stop(): Promise<unknown> }> = [...backends];
  try {
    const redis = await startRedis();
    started.push(redis);
    const gateways: GatewayProcess[] = [];
    for (let i = 0; i < 2; i++) {
      const gw = await startGateway({ backends: backends.map((b) => b.url), redisUrl: redis.url, args: ['--sse-keepalive', '0s', ...gatewayArgs], ...(gatewayEnv ? { env: gatewayEnv } : {}) });
      started.push(gw);
      gateways.push(gw);
    }
    // Every backend answers its health checks before the first session is placed.
    for (const gw of gateways) {
      await eventually('every backend healthy', async () => (await gw.admin<Array<{ healthy: boolean }>>('/backends')).every((b) => b.healthy) || undefined);
    }
    const mcpUrls = gateways.map((g) => g.mcpUrl);
    return {
      backends,
      redis,
      gateways,
      origins: mcpUrls.map((u) => new URL(u).origin),
      mcpUrls,
      async stop() {
        await Promise.allSettled(gateways.map((g) => g.stop()));
        await Promise.allSettled(backends.map((b) => b.stop()));
        await redis.stop();
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.stop()));
    throw err;
  }
}

/**
 * What every scenario asserts of the sessions a client reports: no failure; each answer of a session from one
 * replica (stickiness); every sampling and elicitation request answered, with the client's answer reaching the
 * tool; each session's requests spread over both gateways; and, when `allReplicas`, sessions on every replica.
 */
export function assertSessions(reports: SessionReport[], o: { sessions: number; rounds: number; fleet: Fleet; allReplicas?: boolean }): Map<string, string> {
  assert.equal(reports.length, o.sessions, 'one report per session');
  const home = new Map<string, string>();
  for (const r of reports) {
    assert.equal(r.error, undefined, `session ${r.session} failed: ${r.error}`);
    assert.equal(r.replicas.length, 3 * o.rounds, `session ${r.session}: every call answered`);
    assert.equal(new Set(r.replicas).size, 1, `session ${r.session}: every answer from one replica, got ${r.replicas.join(',')}`);
    assert.equal(r.sampling, o.rounds, `session ${r.session}: every sampling request answered`);
    assert.equal(r.elicitation, o.rounds, `session ${r.session}: every elicitation request answered`);
    assert.ok(r.answers.some((a) => a.startsWith('model says: ')) && r.answers.some((a) => a.startsWith('user says: ')), `session ${r.session}: answers reached the tools`);
    assert.equal(r.ports.length, o.fleet.gateways.length, `session ${r.session}: requests alternated between the gateways (${r.ports.join(',')})`);
    home.set(r.sessionId ?? String(r.session), r.replicas[0] as string);
  }
  if (o.allReplicas !== false) {
    assert.deepEqual([...new Set(home.values())].sort(), o.fleet.backends.map((b) => b.name).sort(), 'sessions on every replica');
  }
  return home;
}

/** Status and JSON-RPC error code of a tools/call on a Streamable HTTP session, through a gateway. */
export async function sessionStatus(mcpUrl: string, sessionId: string): Promise<{ status: number; code: number | undefined }> {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
  });
  const text = await res.text();
  let code: number | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code: number } }).error?.code;
  } catch {
    code = undefined; // an SSE answer: a live session
  }
  return { status: res.status, code };
}
