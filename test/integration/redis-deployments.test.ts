// The gateway on each Redis deployment it supports: TLS (rediss://), an ACL user with least privilege,
// Sentinel, and Cluster. Two gateway replicas share the store; a client alternates between them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBackend, type BackendProcess } from '../support/backends.ts';
import { startGateway, type GatewayProcess } from '../support/gateway.ts';
import { connectClient } from '../support/mcp-client.ts';
import { redisCli, startAclRedis, startClusterRedis, startSentinelRedis, startTlsRedis, type Deployment } from '../support/redis-deployments.ts';

const deployments: Array<{ name: string; start: () => Promise<Deployment>; env?: Record<string, string> }> = [
  { name: 'TLS (rediss://)', start: startTlsRedis },
  // The password comes from the environment (as from a Kubernetes Secret), never from a flag.
  { name: 'ACL user with least privilege', start: startAclRedis, env: { REDIS_PASSWORD: 'gw-secret-pw' } },
  { name: 'Sentinel', start: startSentinelRedis },
  { name: 'Cluster', start: startClusterRedis },
];

for (const d of deployments) {
  describe(`Redis store on ${d.name}`, () => {
    let redis: Deployment;
    let backend: BackendProcess;
    const gateways: GatewayProcess[] = [];
    before(async () => {
      redis = await d.start();
      backend = await startBackend('r');
      for (let i = 0; i < 2; i++) {
        gateways.push(await startGateway({ backends: [backend.url], redisUrl: redis.url, args: redis.gatewayArgs, env: d.env ?? {} }));
      }
    });
    after(async () => {
      await Promise.allSettled(gateways.map((g) => g.stop()));
      await backend?.stop();
      await redis?.stop();
    });

    test('sessions bind in Redis and route through either gateway replica', async () => {
      for (const g of gateways) {
        const ready = await g.admin<{ ready: boolean; store: { answeredSinceStart: boolean } }>('/readyz');
        assert.equal(ready.store.answeredSinceStart, true, 'the store answered by the time the gateway listens');
        assert.equal(ready.ready, true);
      }
      const c = await connectClient(gateways.map((g) => g.mcpUrl));
      const sid = c.sessionId();
      for (let i = 0; i < 4; i++) assert.equal((await c.call<{ replica: string }>('whoami')).replica, 'r');
      assert.equal((await c.call<{ answer: string }>('ask_model', { prompt: 'x' })).answer, 'model says: x');
      // The binding is in Redis, under the documented key, with its hash tag.
      const key = `mcpgw:s:{${sid}}`;
      assert.match(redisCli([...redis.cli, 'get', key]), /"b":"http:\/\/127\.0\.0\.1:\d+\/mcp"/);
      await c.transport.terminateSession();
      assert.equal(redisCli([...redis.cli, 'exists', key]), '0', 'DELETE removed it');
      await c.close();
      for (const g of gateways) {
        assert.ok(!g.service.lines.some((l) => l.includes('gw-secret-pw')), 'the password is never logged');
      }
    });
  });
}
