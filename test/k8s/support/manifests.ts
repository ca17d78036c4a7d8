// Reading rendered manifests: pod specs, containers, env; and validation by the run's API server.
import { kubectl, type K8sObject } from './cluster.ts';

export interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
}

export interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean };
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: unknown[];
}

export function podSpecOf(o: K8sObject): PodSpec {
  if (o.kind === 'Pod') return o.spec as PodSpec;
  return (o.spec as { template: { spec: PodSpec } }).template.spec;
}

export function containersOf(o: K8sObject): Container[] {
  return podSpecOf(o).containers;
}

/** A container's env by name, each as {value} or {valueFrom}. */
export function envOf(c: Container): Record<string, Omit<NonNullable<Container['env']>[number], 'name'>> {
  return Object.fromEntries((c.env ?? []).map(({ name, ...rest }) => [name, rest]));
}

/** "20s" / "5m" as seconds (the gateway's duration syntax, as the chart writes it). */
export function seconds(duration: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2] as string]!;
}

/**
 * Creates the objects on the API server with dryRun=All and strict field validation: the real schemas,
 * defaulting and admission judge them, nothing is stored. Returns "Kind/name" of every object accepted.
 */
export async function dryRun(objects: K8sObject[], namespace?: string): Promise<string[]> {
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  const out = await kubectl(['apply', '--dry-run=server', '--validate=strict', ...(namespace ? ['-n', namespace] : []), '-f', '-', '-o', 'json'], {
    input: JSON.stringify(list),
  });
  const parsed = JSON.parse(out) as { kind: string; items?: K8sObject[]; metadata: { name: string } };
  const items = parsed.kind === 'List' ? (parsed.items ?? []) : [parsed as unknown as K8sObject];
  return items.map((o) => `${o.kind}/${o.metadata.name}`).sort();
}
