// A release of the chart in a namespace of its own, its demo pods, and the gateway run as a local process
// the way the chart configures it in a pod: the chart's ConfigMap as its environment, and a kubeconfig
// holding a token of the chart's ServiceAccount.
import { startGateway, type GatewayProcess } from '../../support/gateway.ts';
import { CHART, createNamespace, helm, kubectlJson, serviceAccountKubeconfig } from './cluster.ts';

export interface Release {
  namespace: string;
  name: string;
  /** The chart's resource name prefix. */
  fullname: string;
  /** What `helm install` printed: the chart's NOTES.txt, rendered. */
  installOutput: string;
}

export async function installChart(namespace: string, name: string, set: string[]): Promise<Release> {
  await createNamespace(namespace);
  const installOutput = await helm(['install', name, CHART, '-n', namespace, '--wait', '--timeout', '180s', ...set.flatMap((s) => ['--set', s])], { timeoutMs: 240_000 });
  return { namespace, name, fullname: `${name}-mcp-session-gateway`, installOutput };
}

export interface DemoPod {
  name: string;
  uid: string;
  ip: string;
  ready: boolean;
  terminating: boolean;
}

interface PodList {
  items: Array<{
    metadata: { name: string; uid: string; deletionTimestamp?: string };
    status: { podIP?: string; conditions?: Array<{ type: string; status: string }> };
  }>;
}

/** The demo backend's pods, as the API server has them now. */
export async function demoPods(r: Release): Promise<DemoPod[]> {
  const list = await kubectlJson<PodList>(['-n', r.namespace, 'get', 'pods', '-l', 'app.kubernetes.io/component=demo-backend']);
  return list.items
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      ip: p.status.podIP ?? '',
      ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      terminating: p.metadata.deletionTimestamp !== undefined,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface BackendView {
  id: string;
  url: string;
  ready: boolean;
  draining: boolean;
  healthy: boolean;
  sessions: number;
}

/**
 * The gateway with the release's configuration (its ConfigMap), following the release's Service as the
 * release's ServiceAccount. Listeners on loopback ephemeral ports; no drain delay (nothing routes to it).
 */
export async function startChartGateway(r: Release, extraArgs: string[] = []): Promise<GatewayProcess> {
  const config = await kubectlJson<{ data: Record<string, string> }>(['-n', r.namespace, 'get', 'configmap', r.fullname]);
  const kubeconfig = await serviceAccountKubeconfig(r.namespace, r.fullname);
  return startGateway({
    args: ['--drain-delay', '0s', ...extraArgs],
    env: { ...config.data, KUBECONFIG: kubeconfig },
  });
}

export async function backendsOf(gw: GatewayProcess): Promise<BackendView[]> {
  return gw.admin<BackendView[]>('/backends');
}
