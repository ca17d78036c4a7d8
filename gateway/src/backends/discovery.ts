// Discovery: where the set of backends comes from. One interface, three implementations chosen by
// --discovery; each reports the full set every time (the registry's update() diffs it), and owns the
// lifecycle of whatever it follows (timers, watches). gateway.ts starts it and closes it on shutdown.
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/options.ts';
import type { BackendSpec } from './backend.ts';
import { DnsDiscovery } from './dns-discovery.ts';
import { staticBackends } from './static-discovery.ts';

/** Receives the whole current set of backends, each time it changes. */
export type SpecsListener = (specs: BackendSpec[]) => void;

export interface DiscoveryStatus {
  kind: GatewayConfig['discovery'];
  /** A first answer has arrived (the set may still be empty). */
  synced: boolean;
  /** The last attempt failed; the last known set stays in use meanwhile. */
  failing: boolean;
}

export interface Discovery {
  /** Reports the first set before it resolves; when the source is unreachable it resolves anyway and keeps trying. */
  start(): Promise<void>;
  status(): DiscoveryStatus;
  /** Stops following; idempotent. The last reported set stays with the registry. */
  close(): Promise<void>;
}

class StaticDiscovery implements Discovery {
  readonly #urls: readonly URL[];
  readonly #onSpecs: SpecsListener;

  constructor(urls: readonly URL[], onSpecs: SpecsListener) {
    this.#urls = urls;
    this.#onSpecs = onSpecs;
  }

  async start(): Promise<void> {
    this.#onSpecs(staticBackends(this.#urls));
  }

  status(): DiscoveryStatus {
    return { kind: 'static', synced: true, failing: false };
  }

  async close(): Promise<void> {}
}

export async function createDiscovery(config: GatewayConfig, onSpecs: SpecsListener, logger: Logger): Promise<Discovery> {
  const log = logger.child({ discovery: config.discovery });
  switch (config.discovery) {
    case 'static':
      return new StaticDiscovery(config.backends, onSpecs);
    case 'dns':
      return new DnsDiscovery(
        { target: config.dnsName!, servers: config.dnsServers, intervalMs: config.dnsIntervalMs, mcpPath: config.mcpPath },
        onSpecs,
        log,
      );
    case 'kubernetes': {
      // Loaded only when chosen: the Kubernetes client is the largest dependency by far.
      const { KubernetesDiscovery } = await import('./k8s-discovery.ts');
      return new KubernetesDiscovery({ service: config.k8sService!, port: config.k8sPort, mcpPath: config.mcpPath }, onSpecs, log);
    }
  }
}
