// Starts what a load run needs, on loopback and ephemeral ports: redis-server, N backend replicas (the demo
// backend on the official SDK, or bench/fast-backend.ts), M gateway replicas (the BUILT gateway,
// dist/gateway/src/main.js, as users run it) and optionally the HAProxy, nginx and floor (bench/floor-proxy.ts)
// baselines. Every process
// belongs to one ProcessGroup, so a run stops all of them whatever happens.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, requireBinary } from '../../test/support/redis.ts';
import { startHaproxy, startNginx } from './proxies.ts';
import { waitForHttp, waitForPort, type Proc, type ProcessGroup } from './procs.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** The built gateway; MCP_BENCH_GATEWAY_MAIN points at another build (A/B of a change: build, copy dist/). */
export const GATEWAY_MAIN = process.env.MCP_BENCH_GATEWAY_MAIN ?? `${REPO}dist/gateway/src/main.js`;

export type BackendKind = 'demo' | 'fast' | 'fast-strict' | 'fast-sse';
export type Target = 'gateway' | 'haproxy' | 'nginx' | 'direct' | 'floor' | 'floor-buffered';

export interface Replica {
  name: string;
  url: string;
  proc: Proc;
}

export interface GatewayReplica extends Replica {
  adminUrl: string;
}

export interface TopologyOptions {
  backend: BackendKind;
  backends: number;
  gateways: number;
  /** Processes of the floor and of floor-buffered each (default 1); bench.ts --processes. */
  floorProcesses?: number;
  /** Which targets to start (direct needs nothing extra). */
  targets: readonly Target[];
  gatewayArgs: readonly string[];
  gatewayLogLevel: string;
  /** CPU list for the proxies (gateway, HAProxy, nginx) and for everything else; absent = no pinning. */
  proxyCpus?: string | undefined;
  otherCpus?: string | undefined;
  /** Write a V8 CPU profile of each gateway into this directory (node --cpu-prof). */
  cpuProfDir?: string | undefined;
  /** Node flags for the gateway (e.g. --max-semi-space-size). */
  gatewayNodeFlags?: readonly string[];
  /**
   * The order the proxies start in (those of `targets` not named here start after, in the default order:
   * gateway, HAProxy, nginx, floor, floor-buffered). The bench rotates it: a Node process started later
   * served more per CPU-second in bench/ab.ts runs, so a fixed order would favour one target every round.
   */
  startOrder?: readonly Target[];
}

export interface Topology {
  redis: { url: string; port: number; proc: Proc } | undefined;
  backends: Replica[];
  gateways: GatewayReplica[];
  haproxy: Replica | undefined;
  nginx: Replica | undefined;
  /** The first floor process (entries and proxyProcs list them all). */
  floor: Replica | undefined;
  /** The first floor reading request bodies whole before sending them on, as the gateway does. */
  floorBuffered: Replica | undefined;
  /** Entry URLs per target (one per process for the gateway and the floors, in the order of proxyProcs). */
  entries(target: Target): string[];
  /** The processes whose CPU and memory a target's overhead is (the proxy processes). */
  proxyProcs(target: Target): Proc[];
}

export function requireBuiltGateway(): void {
  if (!existsSync(GATEWAY_MAIN)) throw new Error(`${GATEWAY_MAIN} is missing: run \`npm run build\` first (npm run load/bench do it for you)`);
}

export async function startRedisProc(group: ProcessGroup, cpus?: string): Promise<{ url: string; port: number; proc: Proc }> {
  const bin = requireBinary('redis-server', 'install it with `scripts/system-deps.sh bench` (apt-get install -y redis-server)');
  const port = await freePort();
  const proc = group.spawn('redis', bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { cpus });
  await waitForPort(port, proc);
  return { url: `redis://127.0.0.1:${port}`, port, proc };
}

export async function startBackendProc(group: ProcessGroup, kind: BackendKind, name: string, cpus?: string): Promise<Replica> {
  const port = await freePort();
  const script = kind === 'demo' ? `${REPO}demo/backend.ts` : `${REPO}bench/fast-backend.ts`;
  const args = [script, '--port', String(port), '--name', name, ...(kind === 'fast-strict' ? ['--strict'] : []), ...(kind === 'fast-sse' ? ['--sse'] : [])];
  const proc = group.spawn(`backend-${name}`, process.execPath, args, { cpus });
  await waitForPort(port, proc);
  return { name, url: `http://127.0.0.1:${port}/mcp`, proc };
}

export async function startGatewayProc(
  group: ProcessGroup,
  name: string,
  backends: readonly string[],
  redisUrl: string | undefined,
  o: Pick<TopologyOptions, 'gatewayArgs' | 'gatewayLogLevel' | 'proxyCpus' | 'cpuProfDir' | 'gatewayNodeFlags'> & {
    /** Another build's main.js (bench/ab.ts); the built gateway when absent. */
    main?: string;
  },
): Promise<GatewayReplica> {
  const main = o.main ?? GATEWAY_MAIN;
  if (o.main === undefined) requireBuiltGateway();
  else if (!existsSync(main)) throw new Error(`${main} is missing`);
  const [port, adminPort] = [await freePort(), await freePort()];
  const nodeFlags = [...(o.gatewayNodeFlags ?? []), ...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir, '--cpu-prof-name', `${name}.cpuprofile`] : [])];
  const args = [
    ...nodeFlags,
    main,
    '--host', '127.0.0.1',
    '--port', String(port),
    '--admin-host', '127.0.0.1',
    '--admin-port', String(adminPort),
    '--backends', backends.join(','),
    '--log-level', o.gatewayLogLevel,
    '--shutdown-timeout', '2s',
    ...(redisUrl ? ['--redis-url', redisUrl] : []),
    ...o.gatewayArgs,
  ];
  // One process per gateway unless --gateway-arg=--workers=N says otherwise (a flag beats the env var).
  const proc = group.spawn(name, process.execPath, args, { cpus: o.proxyCpus, env: { WORKERS: '1' } });
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitForHttp(`${adminUrl}/readyz`, proc);
  return { name, url: `http://127.0.0.1:${port}/mcp`, adminUrl, proc };
}

/** The floor proxy (bench/floor-proxy.ts): the least a Node proxy does to route by session id. */
export async function startFloorProc(group: ProcessGroup, backends: readonly string[], cpus?: string, extraArgs: readonly string[] = [], name = 'floor'): Promise<Replica> {
  const port = await freePort();
  const proc = group.spawn(name, process.execPath, [`${REPO}bench/floor-proxy.ts`, '--port', String(port), '--backends', backends.join(','), ...extraArgs], { cpus });
  await waitForPort(port, proc);
  return { name, url: `http://127.0.0.1:${port}/mcp`, proc };
}

export async function startTopology(group: ProcessGroup, o: TopologyOptions): Promise<Topology> {
  const wantsGateway = o.targets.includes('gateway');
  const redis = wantsGateway ? await startRedisProc(group, o.otherCpus) : undefined;
  const names = Array.from({ length: o.backends }, (_, i) => String.fromCharCode(97 + (i % 26)) + (i >= 26 ? String(i) : ''));
  const backends = await Promise.all(names.map((n) => startBackendProc(group, o.backend, n, o.otherCpus)));
  const urls = backends.map((b) => b.url);
  const gateways: GatewayReplica[] = [];
  const floors: Replica[] = [];
  const floorsBuffered: Replica[] = [];
  let haproxy: Replica | undefined;
  let nginx: Replica | undefined;
  const floorProcesses = o.floorProcesses ?? 1;
  const numbered = (name: string, list: readonly unknown[]) => (floorProcesses > 1 ? `${name}-${list.length + 1}` : name);
  // Each starts one more process of its target; how many each target gets.
  const starters: Partial<Record<Target, { count: number; start: () => Promise<void> }>> = {
    gateway: { count: o.gateways, start: async () => void gateways.push(await startGatewayProc(group, `gateway-${gateways.length + 1}`, urls, redis?.url, o)) },
    haproxy: { count: 1, start: async () => void (haproxy = await startHaproxy(group, urls, o.proxyCpus)) },
    nginx: { count: 1, start: async () => void (nginx = await startNginx(group, urls, o.proxyCpus)) },
    floor: { count: floorProcesses, start: async () => void floors.push(await startFloorProc(group, urls, o.proxyCpus, [], numbered('floor', floors))) },
    'floor-buffered': {
      count: floorProcesses,
      start: async () => void floorsBuffered.push(await startFloorProc(group, urls, o.proxyCpus, ['--buffer-request-bodies'], numbered('floor-buffered', floorsBuffered))),
    },
  };
  // With several processes per target: the first process of each target in order, then the second of each,
  // and so on, so that no target has all its processes started before another's first.
  const order = proxyStartOrder(o.targets, o.startOrder);
  const most = Math.max(0, ...order.map((t) => starters[t]?.count ?? 0));
  for (let i = 0; i < most; i++) {
    for (const target of order) {
      const starter = starters[target];
      if (starter && i < starter.count) await starter.start();
    }
  }
  const floor = floors[0];
  const floorBuffered = floorsBuffered[0];
  return {
    redis,
    backends,
    gateways,
    haproxy,
    nginx,
    floor,
    floorBuffered,
    entries(target) {
      if (target === 'gateway') return gateways.map((g) => g.url);
      if (target === 'haproxy') return haproxy ? [haproxy.url] : [];
      if (target === 'nginx') return nginx ? [nginx.url] : [];
      if (target === 'floor') return floors.map((f) => f.url);
      if (target === 'floor-buffered') return floorsBuffered.map((f) => f.url);
      return urls;
    },
    proxyProcs(target) {
      if (target === 'gateway') return gateways.map((g) => g.proc);
      if (target === 'haproxy') return haproxy ? [haproxy.proc] : [];
      if (target === 'nginx') return nginx ? [nginx.proc] : [];
      if (target === 'floor') return floors.map((f) => f.proc);
      if (target === 'floor-buffered') return floorsBuffered.map((f) => f.proc);
      return [];
    },
  };
}

/** The proxies of `targets`, those `first` names first (in its order), then the rest in the default order. */
export function proxyStartOrder(targets: readonly Target[], first: readonly Target[] = []): Target[] {
  const wanted = DEFAULT_START_ORDER.filter((t) => targets.includes(t));
  const leading = first.filter((t, i) => wanted.includes(t) && first.indexOf(t) === i);
  return [...leading, ...wanted.filter((t) => !leading.includes(t))];
}
const DEFAULT_START_ORDER: readonly Target[] = ['gateway', 'haproxy', 'nginx', 'floor', 'floor-buffered'];
