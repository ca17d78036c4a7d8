// A gateway that cannot start (its port is taken) must give back everything it opened on the way: Redis
// connections, backend pools, timers. Run in this process, so that what is left open can be seen.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../gateway/src/config/load.ts';
import { startGateway } from '../../gateway/src/gateway.ts';
import { startBackend, type BackendProcess } from '../support/backends.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { eventually } from '../support/wait.ts';

const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

let redis: RedisServer;
let backend: BackendProcess;
before(async () => {
  [redis, backend] = await Promise.all([startRedis(), startBackend('a')]);
});
after(async () => {
  await backend?.stop();
  await redis?.stop();
});

test('a port in use: start-up fails, and the store connections and backend pools it opened are closed', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const port = (busy.address() as AddressInfo).port;
    const request = loadConfig(
      ['--host', '127.0.0.1', '--port', String(port), '--admin-host', '127.0.0.1', '--admin-port', '0', '--backends', backend.url, '--redis-url', redis.url, '--log-level', 'silent'],
      {},
    );
    assert.equal(request.kind, 'run');
    const before = sockets();
    await assert.rejects(startGateway(request.config, pino({ level: 'silent' })), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
    // Closing sockets leave the list as their handles close (a moment after close() resolves).
    await eventually(`no socket left open (had ${before} before)`, () => sockets() <= before || undefined, { timeoutMs: 15_000 });
  } finally {
    busy.close();
  }
});
