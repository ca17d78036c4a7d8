// Kubernetes discovery: follows the EndpointSlices of one Service with @kubernetes/client-node's informer
// (ListWatch: list, then watch from that resourceVersion) and reports their endpoints as backends
// (k8s-endpoints.ts). Credentials: KUBECONFIG when set, else the pod's ServiceAccount (in-cluster), else
// ~/.kube/config. The ServiceAccount needs get/list/watch on endpointslices.discovery.k8s.io, nothing more.
//
// What the informer already does: re-watch from the last resourceVersion when its 30 s idle timeout fires or
// the API server ends a watch; relist when a watch answers 410 Gone (the resourceVersion was compacted away).
// What it does not: any other failure (API server down, 403, 5xx) stops it; we restart it with backoff.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DiscoveryV1Api, KubeConfig, ListWatch, Watch, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { K8sPort, K8sServiceRef } from '../config/discovery-values.ts';
import { Backoff } from './backoff.ts';
import type { Discovery, DiscoveryStatus, SpecsListener } from './discovery.ts';
import { slicesToSpecs } from './k8s-endpoints.ts';

export interface KubernetesDiscoveryOptions {
  service: K8sServiceRef;
  port: K8sPort | undefined;
  mcpPath: string;
  /** Environment to read KUBECONFIG / KUBERNETES_SERVICE_HOST from (process.env by default). */
  env?: NodeJS.ProcessEnv;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;
/** The label the EndpointSlice controller puts on every slice of a Service. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Which credentials to use, in the order kubectl users expect; throws when there are none. */
export function loadKubeConfig(env: NodeJS.ProcessEnv): { kc: KubeConfig; source: string } {
  const kc = new KubeConfig();
  if (env.KUBECONFIG) {
    kc.loadFromDefault();
    return { kc, source: 'KUBECONFIG' };
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'))) {
    kc.loadFromCluster(); // re-reads the projected token file every minute: bound tokens rotate
    return { kc, source: 'in-cluster ServiceAccount' };
  }
  const file = join(homedir(), '.kube', 'config');
  if (existsSync(file)) {
    kc.loadFromFile(file);
    return { kc, source: file };
  }
  throw new Error('kubernetes discovery found no credentials: run in a pod with a ServiceAccount token, or set KUBECONFIG');
}

/**
 * A Watch that says when a watch request was accepted, and whose requests all end on close, even one that
 * was still connecting when the informer was stopped (the informer can only abort what it already holds).
 */
class ClosableWatch extends Watch {
  closed = false;
  onConnected: () => void = () => undefined;

  override async watch(...args: Parameters<Watch['watch']>): Promise<AbortController> {
    const [path, params, callback, done] = args;
    let failed = false;
    const controller = await super.watch(path, params, callback, (err: unknown) => {
      if (err) failed = true;
      done(err);
    });
    if (this.closed) controller.abort();
    else if (!failed) this.onConnected(); // super.watch reports a refused request through done() before returning
    return controller;
  }
}

export class KubernetesDiscovery implements Discovery {
  readonly #opts: KubernetesDiscoveryOptions;
  readonly #onSpecs: SpecsListener;
  readonly #log: Logger;
  readonly #backoff = new Backoff(RETRY_BASE_MS, RETRY_MAX_MS);
  #informer: ListWatch<V1EndpointSlice> | undefined;
  #watch: ClosableWatch | undefined;
  #namespace = '';
  #retry: NodeJS.Timeout | undefined;
  #publishQueued = false;
  #closed = false;
  #synced = false;
  #failing = false;
  #lastSkipped = '';
  #connectedAt = 0;
  /** Delays the informer waits out between re-watches; cancelled on close so no watch starts after it. */
  readonly #delays = new Set<() => void>();

  constructor(opts: KubernetesDiscoveryOptions, onSpecs: SpecsListener, logger: Logger) {
    this.#opts = opts;
    this.#onSpecs = onSpecs;
    this.#log = logger;
  }

  async start(): Promise<void> {
    const { kc, source } = loadKubeConfig(this.#opts.env ?? process.env);
    const context = kc.getContextObject(kc.getCurrentContext());
    this.#namespace = this.#opts.service.namespace ?? context?.namespace?.trim() ?? 'default';
    const { name } = this.#opts.service;
    const api = kc.makeApiClient(DiscoveryV1Api);
    const selector = `${SERVICE_NAME_LABEL}=${name}`;
    this.#watch = new ClosableWatch(kc);
    this.#watch.onConnected = () => {
      this.#connectedAt = Date.now();
      if (this.#failing) this.#log.info('EndpointSlice watch restored');
      this.#failing = false;
    };
    let lists = 0;
    const list = async () => {
      const result = await api.listNamespacedEndpointSlice({ namespace: this.#namespace, labelSelector: selector });
      // The informer lists only at start and when a watch was refused with 410 Gone (its resourceVersion was
      // compacted away, e.g. after an API server restart): every list after the first is such a relist.
      const fields = { slices: result.items.length, resourceVersion: result.metadata?.resourceVersion };
      if (lists++ === 0) this.#log.debug(fields, 'EndpointSlices listed');
      else this.#log.info(fields, 'EndpointSlices listed again: the watch had expired (410 Gone)');
      // A list is an answer even when it holds no slice (no add/delete event would say so).
      this.#queuePublish();
      return result;
    };
    this.#informer = new ListWatch<V1EndpointSlice>(
      `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(this.#namespace)}/endpointslices`,
      this.#watch,
      list,
      false,
      selector,
      undefined,
      { delayFn: (ms) => this.#delay(ms) },
    );
    for (const verb of ['add', 'update', 'delete'] as const) this.#informer.on(verb, () => this.#queuePublish());
    this.#informer.on('connect', () => this.#log.debug('watching EndpointSlices'));
    this.#informer.on('error', (err: unknown) => this.#failed(err));
    this.#log.info({ service: `${this.#namespace}/${name}`, port: this.#opts.port ?? '(first)', credentials: source }, 'following EndpointSlices');
    await this.#informer.start();
    // Let the publish the first list queued run first: the gateway probes what start() reported.
    await new Promise((resolve) => setImmediate(resolve));
  }

  status(): DiscoveryStatus {
    return { kind: 'kubernetes', synced: this.#synced, failing: this.#failing };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    for (const cancel of this.#delays) cancel();
    this.#delays.clear();
    if (this.#watch) this.#watch.closed = true;
    await this.#informer?.stop();
  }

  #delay(ms: number): Promise<void> {
    // Never resolves once closed: the informer then never reaches its next watch call.
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#delays.delete(cancel);
        resolve();
      }, ms);
      const cancel = () => clearTimeout(timer);
      this.#delays.add(cancel);
    });
  }

  /**
   * Publishes on the next turn of the event loop, once: a relist first deletes what is gone and then adds
   * what is new in one synchronous pass, and a pod seen missing halfway through would lose its sessions.
   */
  #queuePublish(): void {
    if (this.#publishQueued || this.#closed) return;
    this.#publishQueued = true;
    setImmediate(() => {
      this.#publishQueued = false;
      if (this.#closed || !this.#informer) return;
      const { specs, skipped } = slicesToSpecs(this.#informer.list(this.#namespace), this.#opts.port, this.#opts.mcpPath);
      const skippedText = JSON.stringify(skipped);
      if (skipped.length > 0 && skippedText !== this.#lastSkipped) this.#log.warn({ skipped }, 'EndpointSlices without a usable MCP port (see --k8s-port)');
      this.#lastSkipped = skippedText;
      this.#synced = true;
      this.#onSpecs(specs);
    });
  }

  #failed(err: unknown): void {
    if (this.#closed) return;
    this.#failing = true;
    // A watch that held for a while before failing starts the backoff over; one that fails at once does not.
    if (this.#connectedAt > 0 && Date.now() - this.#connectedAt > RETRY_MAX_MS) this.#backoff.reset();
    this.#connectedAt = 0;
    const status = (err as { statusCode?: number; code?: number | string }).statusCode ?? (err as { code?: number | string }).code;
    const wait = this.#backoff.next();
    const hint =
      status === 403
        ? `the ServiceAccount needs get, list and watch on endpointslices.discovery.k8s.io in namespace ${this.#namespace}`
        : status === 401
          ? 'the credentials were refused'
          : undefined;
    // The last known backends stay in use meanwhile: an API server restart must not unbind every session.
    this.#log.warn({ status, err: (err as Error)?.message ?? String(err), retryInMs: wait, attempt: this.#backoff.attempts, hint }, 'EndpointSlice watch failed; keeping the last known backends');
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#closed) void this.#informer?.start();
    }, wait);
  }
}
