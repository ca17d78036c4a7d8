// A real toxiproxy server (Shopify's fault-injection TCP proxy), driven through its HTTP API: proxies in
// front of Redis or a backend, and toxics (latency, blackhole, reset) switched on and off by the tests.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { spawnService, type Service } from './process.ts';
import { freePort } from './redis.ts';

const VERSION = 'v2.12.0';

export function toxiproxyBinary(): string {
  const dir = process.env.TOXIPROXY_BIN ?? `${process.env.XDG_CACHE_HOME ?? `${homedir()}/.cache`}/mcp-session-gateway/toxiproxy-${VERSION}`;
  const bin = `${dir}/toxiproxy-server`;
  if (!existsSync(bin)) throw new Error(`toxiproxy is not built: run scripts/build-toxiproxy.sh (needs Go; .ci/run does it)`);
  return bin;
}

export interface Toxic {
  type: 'latency' | 'timeout' | 'reset_peer' | 'bandwidth' | 'slow_close' | 'limit_data' | 'slicer';
  stream?: 'upstream' | 'downstream';
  attributes: Record<string, number>;
}

export interface ToxiProxy {
  /** host:port to point a client at. */
  listen: string;
  port: number;
  addToxic(name: string, toxic: Toxic): Promise<void>;
  removeToxic(name: string): Promise<void>;
  /** Disabled: refuses new connections and cuts open ones. */
  setEnabled(enabled: boolean): Promise<void>;
}

export interface Toxiproxy {
  proxy(name: string, upstream: string): Promise<ToxiProxy>;
  stop(): Promise<void>;
}

export async function startToxiproxy(): Promise<Toxiproxy> {
  const apiPort = await freePort();
  const svc: Service = await spawnService(toxiproxyBinary(), ['-host', '127.0.0.1', '-port', String(apiPort)]);
  const api = `http://127.0.0.1:${apiPort}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${await res.text()}`);
    return res;
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await call('GET', '/version');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`toxiproxy did not start:\n${svc.lines.join("\n")}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    async proxy(name, upstream) {
      const port = await freePort();
      const listen = `127.0.0.1:${port}`;
      await call('POST', '/proxies', { name, listen, upstream, enabled: true });
      return {
        listen,
        port,
        addToxic: async (toxicName, t) => void (await call('POST', `/proxies/${name}/toxics`, { name: toxicName, type: t.type, stream: t.stream ?? 'downstream', toxicity: 1, attributes: t.attributes })),
        removeToxic: async (toxicName) => void (await call('DELETE', `/proxies/${name}/toxics/${toxicName}`)),
        setEnabled: async (enabled) => void (await call('POST', `/proxies/${name}`, { enabled })),
      };
    },
    stop: async () => void (await svc.kill()),
  };
}
