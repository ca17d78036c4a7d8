// Real Redis deployments beyond a plain server, for the store tests: TLS, an ACL user with least privilege,
// Sentinel (a master watched by a sentinel), and a three-master Cluster. All on loopback, ephemeral ports,
// in a temp folder, stopped by the caller.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnService, type Service } from './process.ts';
import { freePort, requireBinary } from './redis.ts';

export interface Deployment {
  /** --redis-url for the gateway. */
  url: string;
  /** Extra gateway flags (mode, sentinels, CA file). */
  gatewayArgs: string[];
  /** redis-cli arguments that reach a data node (for assertions). */
  cli: string[];
  stop(): Promise<void>;
}

const REDIS = () => requireBinary('redis-server', 'install it with `apt-get install -y redis-server` (or run .ci/run)');
const CLI = () => requireBinary('redis-cli', 'it comes with redis-server: `apt-get install -y redis-server`');

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function redisCli(args: string[]): string {
  try {
    return execFileSync(CLI(), args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    return `ERR ${(err as Error).message}`;
  }
}

async function server(args: string[], dir: string): Promise<Service> {
  return spawnService(REDIS(), ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--loglevel', 'warning', '--dir', dir, ...args]);
}

/** TLS only (no plain port), with a CA made here by openssl. */
export async function startTlsRedis(): Promise<Deployment> {
  const openssl = requireBinary('openssl', 'install it with `apt-get install -y openssl`');
  const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
  const run = (args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=gateway-test-ca']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'redis.key', '-out', 'redis.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', 'redis.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'redis.crt', '-days', '1', '-extfile', 'ext']);
  const port = await freePort();
  const svc = await server(
    ['--port', '0', '--tls-port', String(port), '--tls-cert-file', 'redis.crt', '--tls-key-file', 'redis.key', '--tls-ca-cert-file', 'ca.crt', '--tls-auth-clients', 'no'],
    dir,
  );
  const cli = ['--tls', '--cacert', join(dir, 'ca.crt'), '-h', '127.0.0.1', '-p', String(port)];
  await waitFor(() => redisCli([...cli, 'ping']) === 'PONG', 'redis over TLS');
  return {
    url: `rediss://localhost:${port}`,
    gatewayArgs: ['--redis-tls-ca-file', join(dir, 'ca.crt')],
    cli,
    async stop() {
      await svc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The least-privilege ACL documented in the README: only the gateway's keys and channel, only the commands it
 * sends (plus what ioredis sends on connect), no default user.
 */
export const GATEWAY_ACL =
  'on >gw-secret-pw ~mcpgw:* &mcpgw:* +getex +set +zadd +pexpire +del +zrem +getdel +zpopmin +zremrangebyscore +zcard +exists +publish +subscribe +ping +info +client|setname +select +quit +eval +hmget +hset +time';

export async function startAclRedis(): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-acl-'));
  const port = await freePort();
  writeFileSync(join(dir, 'users.acl'), `user default on nopass ~* &* +@all\nuser admin on >admin-pw ~* &* +@all\nuser gateway ${GATEWAY_ACL}\n`);
  const svc = await server(['--port', String(port), '--aclfile', join(dir, 'users.acl')], dir);
  const cli = ['-h', '127.0.0.1', '-p', String(port)];
  await waitFor(() => redisCli([...cli, 'ping']) === 'PONG', 'redis with ACL');
  // Only now lock the default user out, so that the checks above could connect.
  redisCli([...cli, 'acl', 'setuser', 'default', 'off']);
  return {
    url: `redis://gateway@127.0.0.1:${port}`,
    gatewayArgs: [],
    // Assertions look with an admin user; the gateway user may not even GET.
    cli: [...cli, '--user', 'admin', '--pass', 'admin-pw', '--no-auth-warning'],
    async stop() {
      await svc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startSentinelRedis(): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const [masterPort, sentinelPort] = [await freePort(), await freePort()];
  const master = await server(['--port', String(masterPort)], dir);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor gwmaster 127.0.0.1 ${masterPort} 1`, 'sentinel down-after-milliseconds gwmaster 5000', ''].join('\n'));
  const sentinel = await spawnService(REDIS(), [conf, '--sentinel']);
  await waitFor(() => redisCli(['-p', String(sentinelPort), 'sentinel', 'get-master-addr-by-name', 'gwmaster']).includes(String(masterPort)), 'sentinel to know its master');
  return {
    url: 'redis://127.0.0.1:6379', // host ignored in sentinel mode: the sentinels name the master
    gatewayArgs: ['--redis-mode', 'sentinel', '--redis-sentinels', `127.0.0.1:${sentinelPort}`, '--redis-sentinel-master', 'gwmaster'],
    cli: ['-h', '127.0.0.1', '-p', String(masterPort)],
    async stop() {
      await sentinel.kill();
      await master.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startClusterRedis(): Promise<Deployment & { ports: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const nodes: Service[] = [];
  for (const p of ports) {
    nodes.push(await server(['--port', String(p), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${p}.conf`, '--cluster-node-timeout', '3000'], dir));
  }
  await waitFor(() => ports.every((p) => redisCli(['-p', String(p), 'ping']) === 'PONG'), 'cluster nodes');
  execFileSync(CLI(), ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore', timeout: 20_000 });
  await waitFor(() => ports.every((p) => redisCli(['-p', String(p), 'cluster', 'info']).includes('cluster_state:ok')), 'cluster_state:ok');
  return {
    url: `redis://127.0.0.1:${ports[0]}`,
    gatewayArgs: ['--redis-mode', 'cluster'],
    cli: ['-c', '-h', '127.0.0.1', '-p', String(ports[0])],
    ports,
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
