// The gateway as a real process (node gateway/src/main.ts), on ephemeral ports, stopped by the test.
import { spawnService, type Service } from './process.ts';
import { REPO } from './backends.ts';

export interface GatewayProcess {
  mcpUrl: string;
  adminUrl: string;
  service: Service;
  stop(): Promise<number | null>;
  kill(): Promise<number | null>;
  /** GET an admin endpoint as JSON. */
  admin<T = unknown>(path: string): Promise<T>;
  /** The Prometheus text of /metrics. */
  metricsText(): Promise<string>;
}

export interface GatewayOptions {
  /** Static backends; leave out (or empty) when `args` choose another discovery. */
  backends?: string[];
  redisUrl?: string;
  args?: string[];
  env?: Record<string, string>;
}

export async function startGateway(o: GatewayOptions): Promise<GatewayProcess> {
  const args = [
    'gateway/src/main.ts',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--admin-host',
    '127.0.0.1',
    '--admin-port',
    '0',
    ...(o.backends && o.backends.length > 0 ? ['--backends', o.backends.join(',')] : []),
    '--health-interval',
    '500ms',
    '--log-level',
    'info',
    ...(o.redisUrl ? ['--redis-url', o.redisUrl] : []),
    ...(o.args ?? []),
  ];
  const service = await spawnService(process.execPath, args, {
    cwd: REPO,
    // One process unless a test asks for workers (--workers beats WORKERS): the tests read one process's logs.
    env: { WORKERS: '1', ...o.env },
    ready: (l) => l.msg === 'gateway listening' && l.worker === undefined,
  });
  // With --workers, each worker logs its own line (with `worker`); the primary's names the shared ports.
  const ready = await service.waitFor((l) => l.msg === 'gateway listening' && l.worker === undefined);
  const adminUrl = `http://127.0.0.1:${ready.adminPort as number}`;
  return {
    mcpUrl: `http://127.0.0.1:${ready.mcpPort as number}/mcp`,
    adminUrl,
    service,
    stop: () => service.stop(),
    kill: () => service.kill(),
    admin: async <T>(path: string) => (await (await fetch(`${adminUrl}${path}`)).json()) as T,
    metricsText: async () => (await fetch(`${adminUrl}/metrics`)).text(),
  };
}
