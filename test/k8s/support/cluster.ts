// The cluster a test:k8s run started (test/k8s/run.sh: one per run), and the command-line tools that talk to
// it. A test that finds no cluster or no binaries fails with the command that provides them.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO } from '../../support/backends.ts';

export const CHART = join(REPO, 'charts/mcp-session-gateway');
export const K8S_BIN = process.env.K8S_BIN ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mcp-session-gateway/k8s-v1.37.2');

/** A fresh directory inside the run's state directory (removed with it), or the system's temp dir. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(process.env.K8S_RUN ?? tmpdir(), prefix));
}

export function requireBinaries(): void {
  for (const b of ['kubectl', 'helm', 'kube-apiserver', 'kwok']) {
    if (!existsSync(join(K8S_BIN, b))) {
      throw new Error(`${join(K8S_BIN, b)} is missing: run test/k8s/cluster/build.sh (about 1.5 min with warm Go caches, 10-13 min cold), or npm run test:k8s, which does`);
    }
  }
}

/** The run's cluster: its kubeconfig (admin) and state directory. */
export function requireCluster(): { kubeconfig: string; run: string } {
  requireBinaries();
  const kubeconfig = process.env.KUBECONFIG;
  const run = process.env.K8S_RUN;
  if (!kubeconfig || !run || !existsSync(join(run, 'pids/kube-apiserver.pid'))) {
    throw new Error('no test cluster: run these tests with `npm run test:k8s` (it starts one cluster for the run and stops it after)');
  }
  return { kubeconfig, run };
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded: it is killed after `timeoutMs`). */
export function run(command: string, args: string[], o: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}

/** Like run, but a non-zero exit throws with the command's stderr. */
export async function must(command: string, args: string[], o: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(command, args, o);
  if (r.code !== 0) throw new Error(`${command.split('/').pop()} ${args.join(' ')} exited ${r.code}:\n${r.stderr || r.stdout}`);
  return r.stdout;
}

export const kubectl = (args: string[], o: Parameters<typeof run>[2] = {}) => must(join(K8S_BIN, 'kubectl'), args, o);
export const helm = (args: string[], o: Parameters<typeof run>[2] = {}) => must(join(K8S_BIN, 'helm'), args, o);
export const tryHelm = (args: string[], o: Parameters<typeof run>[2] = {}) => run(join(K8S_BIN, 'helm'), args, o);
export const tryKubectl = (args: string[], o: Parameters<typeof run>[2] = {}) => run(join(K8S_BIN, 'kubectl'), args, o);

export async function kubectlJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** The objects of a multi-document YAML stream (empty documents dropped). */
export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

export async function createNamespace(name: string): Promise<string> {
  await kubectl(['create', 'namespace', name]);
  return name;
}

/**
 * A kubeconfig that authenticates as a ServiceAccount with a bound token from the TokenRequest API (what a pod
 * gets), against the run's API server: the tests see exactly what the chart's RBAC allows.
 */
export async function serviceAccountKubeconfig(namespace: string, serviceAccount: string): Promise<string> {
  const token = (await kubectl(['-n', namespace, 'create', 'token', serviceAccount, '--duration=1h'])).trim();
  const server = (await kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])).trim();
  const ca = (await kubectl(['config', 'view', '--minify', '--raw', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}'])).trim();
  const file = join(scratchDir('sa-'), 'kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: test, cluster: {server: "${server}", certificate-authority-data: "${ca}"}}]`,
      `users: [{name: ${serviceAccount}, user: {token: "${token}"}}]`,
      `contexts: [{name: sa, context: {cluster: test, user: ${serviceAccount}, namespace: ${namespace}}}]`,
      'current-context: sa',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}
