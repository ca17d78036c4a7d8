// Demo MCP backend replicas (official SDK, every era) as real processes on ephemeral ports. Replicas started
// together share one MCP_STATE_KEY, as a real fleet must: a 2026-07-28 retry may land on any of them.
import { randomBytes } from 'node:crypto';
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

export async function startBackend(name: string, script = 'demo/backend.ts', extraArgs: string[] = [], stateKey = newStateKey()): Promise<BackendProcess> {
  const service = await spawnService(process.execPath, [script, '--port', '0', '--name', name, ...extraArgs], {
    cwd: REPO,
    env: { MCP_STATE_KEY: stateKey },
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

export function newStateKey(): string {
  return randomBytes(32).toString('hex');
}

export async function startBackends(names: string[], extraArgs: string[] = []): Promise<BackendProcess[]> {
  const key = newStateKey();
  return Promise.all(names.map((n) => startBackend(n, 'demo/backend.ts', extraArgs, key)));
}
