// The official SDKs the interop suite runs, installed by the suite itself at pinned versions:
//   Python: `mcp` in the virtualenv of scripts/python-venv.sh (the pin lives there).
//   Go:     github.com/modelcontextprotocol/go-sdk, pinned in test/interop/go/go.mod, built with `go build` from
//           the Go module proxy into .cache/interop-go/ (rebuilt only when the module's sources change).
// Servers are real processes on ephemeral ports (test/support/process.ts stops them); clients run to the end
// and report one JSON line per session, under a deadline: an SDK that hangs fails the test, it never stalls it.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, type BackendProcess } from '../support/backends.ts';
import { spawnService } from '../support/process.ts';

const GO_MODULE = join(REPO, 'test/interop/go');
const PY_DIR = join(REPO, 'test/interop/python');

let python: string | undefined;
/** The venv's python (created on first use; minutes on a fresh machine, instant after). */
export function pythonPath(): string {
  python ??= execFileSync(join(REPO, 'scripts/python-venv.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return python;
}

let goBinary: string | undefined;
/** The interop binary (server and client on the Go SDK), built once per source version. */
export function goInteropBinary(): string {
  if (goBinary) return goBinary;
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(GO_MODULE, f)));
  const dir = join(REPO, '.cache/interop-go');
  const out = join(dir, `interop-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    try {
      execFileSync('go', ['version'], { stdio: 'ignore' });
    } catch {
      throw new Error('the Go toolchain (go >= 1.25) is needed to build the Go SDK interop binary: https://go.dev/dl/ (or apt-get install golang-go)');
    }
    // -mod=mod: go.sum pins the module hashes; the module proxy serves the pinned go-sdk version.
    execFileSync('go', ['build', '-o', out, '.'], { cwd: GO_MODULE, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOFLAGS: '-mod=mod' } });
  }
  goBinary = out;
  return out;
}

export type Sdk = 'python' | 'go';

/** A server replica on an official SDK: Streamable HTTP at /mcp and HTTP+SSE at /sse (+ its messages path). */
export async function startSdkServer(sdk: Sdk, name: string): Promise<BackendProcess> {
  const [cmd, args] = sdk === 'python' ? [pythonPath(), [join(PY_DIR, 'server.py'), '--name', name]] : [goInteropBinary(), ['server', '-name', name]];
  const service = await spawnService(cmd, args, { cwd: REPO, ready: (l) => l.event === 'listening', readyTimeoutMs: 60_000 });
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

export async function startSdkServers(sdk: Sdk, names: string[]): Promise<BackendProcess[]> {
  return Promise.all(names.map((n) => startSdkServer(sdk, n)));
}

/** One session as an SDK client reports it. */
export interface SessionReport {
  session: number;
  /** `replica` of every tool answer, in order. */
  replicas: string[];
  /** Server-to-client requests the client answered. */
  sampling: number;
  elicitation: number;
  answers: string[];
  protocolVersion?: string;
  sessionId?: string | null;
  /** Gateway ports the session's HTTP requests went to. */
  ports: Array<string | number>;
  error?: string;
}

export interface ClientRun {
  /** Gateway origins; the client's requests go to each in turn. */
  entries: string[];
  transport: 'streamable' | 'sse';
  sessions: number;
  rounds: number;
  /** Leave Streamable HTTP sessions open at the end (to look at them afterwards). */
  keep?: boolean;
  timeoutMs?: number;
}

/** Runs an SDK client to the end; resolves with its per-session reports. */
export function runSdkClient(sdk: Sdk, run: ClientRun): Promise<SessionReport[]> {
  const common = ['--entries', run.entries.join(','), '--transport', run.transport, '--sessions', String(run.sessions), '--rounds', String(run.rounds)];
  const [cmd, args] =
    sdk === 'python'
      ? [pythonPath(), [join(PY_DIR, 'client.py'), ...common, ...(run.keep ? ['--keep'] : [])]]
      : [goInteropBinary(), ['client', ...common.map((a) => (a.startsWith('--') ? a.slice(1) : a)), ...(run.keep ? ['-keep'] : [])]];
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: REPO, timeout: run.timeoutMs ?? 120_000, killSignal: 'SIGKILL', maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const reports = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as SessionReport);
      if (err && reports.length < run.sessions) return reject(new Error(`${sdk} client failed (${err.message}); stderr:\n${stderr.slice(-3000)}`));
      resolve(reports.sort((a, b) => a.session - b.session));
    });
  });
}

/** Origins of the gateway replicas (the SDK clients add the path of the transport). */
export const originsOf = (mcpUrls: string[]) => mcpUrls.map((u) => new URL(u).origin);
