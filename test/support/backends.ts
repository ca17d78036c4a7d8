// Demo MCP backend replicas (official SDK, sessions in memory) as real processes on ephemeral ports.
import { fileURLToPath } from 'node:url';
import { spawnService, type Service } from './process.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface BackendProcess {
  name: string;
  port: number;
  url: string;
  service: Service;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export async function startBackend(name: string, script = 'demo/backend.ts', extraArgs: string[] = []): Promise<BackendProcess> {
  const service = await spawnService(process.execPath, [script, '--port', '0', '--name', name, ...extraArgs], {
    cwd: REPO,
    ready: (l) => l.event === 'listening',
  });
  const ready = await service.waitFor((l) => l.event === 'listening');
  return {
    name,
    port: ready.port as number,
    url: ready.url as string,
    service,
    stop: async () => void (await service.stop()),
    kill: async () => void (await service.kill()),
  };
}

export async function startBackends(names: string[], extraArgs: string[] = []): Promise<BackendProcess[]> {
  return Promise.all(names.map((n) => startBackend(n, 'demo/backend.ts', extraArgs)));
}
