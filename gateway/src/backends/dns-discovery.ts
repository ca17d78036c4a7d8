// DNS discovery: resolves --dns-name every --dns-interval and reports the addresses found (A/AAAA on one
// port, or SRV with a port per target). Typical target: a Kubernetes headless Service, whose records list
// the ready pods. DNS cannot say "terminating but serving", so a pod that leaves the records is gone at once
// (its sessions are unbound); Kubernetes discovery drains instead.
import { Resolver } from 'node:dns/promises';
import type { Logger } from 'pino';
import type { DnsTarget } from '../config/discovery-values.ts';
import type { Discovery, DiscoveryStatus, SpecsListener } from './discovery.ts';
import { endpointsToSpecs, resolveTarget } from './dns-records.ts';

export interface DnsDiscoveryOptions {
  target: DnsTarget;
  /** Resolver addresses; undefined: the system's (/etc/resolv.conf). */
  servers: string[] | undefined;
  intervalMs: number;
  mcpPath: string;
}

/** Per-query timeout and tries: a slow resolver must not stall discovery past its interval. */
const QUERY_TIMEOUT_MS = 2000;
const QUERY_TRIES = 2;

export class DnsDiscovery implements Discovery {
  readonly #opts: DnsDiscoveryOptions;
  readonly #onSpecs: SpecsListener;
  readonly #log: Logger;
  readonly #resolver: Resolver;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #synced = false;
  #failing = false;
  #last = '';

  constructor(opts: DnsDiscoveryOptions, onSpecs: SpecsListener, logger: Logger) {
    this.#opts = opts;
    this.#onSpecs = onSpecs;
    this.#log = logger;
    this.#resolver = new Resolver({ timeout: QUERY_TIMEOUT_MS, tries: QUERY_TRIES });
    if (opts.servers) this.#resolver.setServers(opts.servers);
  }

  async start(): Promise<void> {
    await this.#resolveOnce();
    this.#schedule();
  }

  status(): DiscoveryStatus {
    return { kind: 'dns', synced: this.#synced, failing: this.#failing };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#resolver.cancel();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.#resolveOnce().finally(() => this.#schedule());
    }, this.#opts.intervalMs);
    this.#timer.unref();
  }

  async #resolveOnce(): Promise<void> {
    const t = this.#opts.target;
    const name = t.kind === 'address' ? `${t.host}:${t.port}` : t.name;
    try {
      const specs = endpointsToSpecs(await resolveTarget(this.#resolver, t), this.#opts.mcpPath);
      if (this.#closed) return;
      if (this.#failing) this.#log.info({ name }, 'DNS answers again');
      this.#synced = true;
      this.#failing = false;
      const summary = specs.map((s) => s.id).join(',');
      if (summary !== this.#last) {
        this.#log.info({ name, backends: specs.length }, 'DNS discovery: backend set changed');
        this.#last = summary;
      }
      this.#onSpecs(specs);
    } catch (err) {
      if (this.#closed) return;
      // Keep the last known set: a resolver hiccup must not unbind every session.
      if (!this.#failing) this.#log.warn({ name, err: (err as NodeJS.ErrnoException).code ?? (err as Error).message }, 'DNS discovery failed; keeping the last known backends');
      this.#failing = true;
    }
  }
}
