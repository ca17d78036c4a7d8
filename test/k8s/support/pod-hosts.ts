// Hosts for pod IPs. kwok's pods are API objects only: nothing listens at their IPs. For traffic tests this
// plays the kubelet's part: it makes a network namespace joined to the test's own by a veth pair, and for each
// pod of a Deployment that has an IP it puts that IP on the pod side and starts a demo MCP backend there,
// bound to it and named after the pod; when the pod object is gone, the backend stops and the IP goes. A
// terminating pod's backend keeps serving until then, like a container finishing its grace period.
// Everything it makes is removed by close(), also when a test failed; the run's own network namespace
// (test/k8s/run.sh) is the last safety net.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { REPO } from '../../support/backends.ts';
import { spawnService, type Service } from '../../support/process.ts';

const exec = promisify(execFile);
const ip = (...args: string[]) => exec('ip', args);

export interface PodHost {
  pod: string;
  uid: string;
  address: string;
  service: Service;
}

export interface PodHostsOptions {
  /** Short and unique per run: names the namespace and both veth ends (Linux allows 15 characters). */
  prefix: string;
  /** The test side's address on the veth, inside the pod CIDR (kwok hands out from the low end). */
  localAddress: string;
  /** Prefix length of the pod CIDR, routed over the veth. */
  cidrBits: number;
  port: number;
}

export class PodHosts {
  readonly netns: string;
  readonly hostLink: string;
  readonly podLink: string;
  readonly #o: PodHostsOptions;
  readonly #hosts = new Map<string, PodHost>();
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #closed = false;
  /** Problems met while following pods (a test asserts there are none). */
  readonly errors: string[] = [];

  private constructor(o: PodHostsOptions) {
    this.#o = o;
    this.netns = `${o.prefix}-pods`;
    this.hostLink = `${o.prefix}h`;
    this.podLink = `${o.prefix}p`;
  }

  static async create(o: PodHostsOptions): Promise<PodHosts> {
    const h = new PodHosts(o);
    try {
      await ip('netns', 'add', h.netns);
      await ip('link', 'add', h.hostLink, 'type', 'veth', 'peer', 'name', h.podLink, 'netns', h.netns);
      await ip('addr', 'add', `${o.localAddress}/${o.cidrBits}`, 'dev', h.hostLink);
      await ip('link', 'set', h.hostLink, 'up');
      await ip('-n', h.netns, 'link', 'set', 'lo', 'up');
      await ip('-n', h.netns, 'link', 'set', h.podLink, 'up');
      await ip('-n', h.netns, 'route', 'add', `${o.localAddress}/32`, 'dev', h.podLink);
    } catch (err) {
      await h.close();
      throw err;
    }
    return h;
  }

  /** Keeps a host for every pod matching `labelSelector` in `namespace`, polling the API server. */
  follow(namespace: string, labelSelector: string, intervalMs = 300): void {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    const api = kc.makeApiClient(CoreV1Api);
    const tick = () => {
      if (this.#closed || this.#syncing) return;
      this.#syncing = api
        .listNamespacedPod({ namespace, labelSelector })
        .then((list) => this.#sync(list.items.map((p) => ({ name: p.metadata!.name!, uid: p.metadata!.uid!, ip: p.status?.podIP ?? '' }))))
        .catch((err: Error) => void this.errors.push(`sync: ${err.message}`))
        .finally(() => (this.#syncing = undefined));
    };
    tick();
    this.#timer = setInterval(tick, intervalMs);
  }

  hosts(): PodHost[] {
    return [...this.#hosts.values()];
  }

  async #sync(pods: Array<{ name: string; uid: string; ip: string }>): Promise<void> {
    const present = new Set(pods.map((p) => p.uid));
    // Gone first: a freed IP may already belong to a new pod.
    for (const h of this.hosts().filter((x) => !present.has(x.uid))) await this.#stop(h);
    for (const p of pods.filter((x) => x.ip !== '' && !this.#hosts.has(x.uid))) {
      if (this.hosts().some((h) => h.address === p.ip)) {
        this.errors.push(`${p.name}: ${p.ip} is still held by another pod's host`);
        continue;
      }
      await ip('-n', this.netns, 'addr', 'add', `${p.ip}/32`, 'dev', this.podLink);
      const service = await spawnService('ip', ['netns', 'exec', this.netns, process.execPath, 'demo/backend.ts', '--host', p.ip, '--port', String(this.#o.port), '--name', p.name], {
        cwd: REPO,
        ready: (l) => l.event === 'listening',
      });
      this.#hosts.set(p.uid, { pod: p.name, uid: p.uid, address: p.ip, service });
    }
  }

  async #stop(h: PodHost): Promise<void> {
    this.#hosts.delete(h.uid);
    await h.service.stop(5000);
    await ip('-n', this.netns, 'addr', 'del', `${h.address}/32`, 'dev', this.podLink).catch(() => undefined);
  }

  /** Stops every backend and removes the namespace (its veth end, and with it the pair). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#syncing?.catch(() => undefined);
    await Promise.allSettled(this.hosts().map((h) => this.#stop(h)));
    await ip('netns', 'del', this.netns).catch(() => undefined);
    await ip('link', 'del', this.hostLink).catch(() => undefined); // gone with its peer already, normally
  }

  /** What of this is still there (for asserting a clean teardown). */
  async leftovers(): Promise<string[]> {
    const out: string[] = [];
    const { stdout: netns } = await ip('netns', 'list');
    if (netns.split('\n').some((l) => l.split(' ')[0] === this.netns)) out.push(`netns ${this.netns}`);
    const link = await ip('link', 'show', this.hostLink).then(
      () => true,
      () => false,
    );
    if (link) out.push(`link ${this.hostLink}`);
    return out;
  }
}
