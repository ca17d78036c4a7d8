// `npm start`: the whole demo on embedded defaults. Three demo MCP backend replicas (official SDK v2, every
// transport era: 2026-07-28 stateless, 2025 sessions in memory, 2024-11-05 HTTP+SSE) and the gateway in front of
// them on the in-memory session store. The replicas share one key for multi-round-trip state, so that a
// 2026-07-28 retry may land on any of them. Ctrl-C stops everything.
//   DEMO_PORT (8080), DEMO_ADMIN_PORT (9090), DEMO_BACKEND_PORT (3001: replicas on 3001..3003)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const gatewayMain = fileURLToPath(new URL(`../gateway/src/main.${ext}`, import.meta.url));
const port = Number(process.env.DEMO_PORT ?? 8080);
const adminPort = Number(process.env.DEMO_ADMIN_PORT ?? 9090);
const firstBackend = Number(process.env.DEMO_BACKEND_PORT ?? 3001);
const names = ['alpha', 'bravo', 'charlie'];
const children: ChildProcess[] = [];
const stateKey = process.env.MCP_STATE_KEY ?? randomBytes(32).toString('hex');

function start(label: string, args: string[], onLine: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCP_STATE_KEY: stateKey } });
  children.push(child);
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', (l) => process.stderr.write(`[${label}] ${l}\n`));
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`[${label}] exited (${code ?? signal}); stopping the demo\n`);
      stop(1);
    }
  });
  return child;
}

let stopping = false;
function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const ready = names.map(
  (name, i) =>
    new Promise<string>((resolve) => {
      start(name, [`${here}backend.${ext}`, '--port', String(firstBackend + i), '--name', name], (line) => {
        try {
          const msg = JSON.parse(line) as { event?: string; url?: string };
          if (msg.event === 'listening' && msg.url) resolve(msg.url);
        } catch {
          process.stdout.write(`[${name}] ${line}\n`);
        }
      });
    }),
);
const urls = await Promise.all(ready);

start('gateway', [gatewayMain, '--host', '127.0.0.1', '--port', String(port), '--admin-port', String(adminPort), '--admin-host', '127.0.0.1', '--backends', urls.join(',')], (line) => {
  try {
    const msg = JSON.parse(line) as {
      msg?: string;
      http?: string;
      method?: string;
      rpc?: string;
      status?: number;
      backend?: string;
      session?: string;
      task?: string;
      route?: string;
      ms?: number;
      level?: string;
    };
    if (msg.msg === 'gateway listening') {
      process.stdout.write(
        [
          '',
          `  MCP gateway on http://127.0.0.1:${port}/mcp  (in-memory session store)`,
          `  legacy HTTP+SSE (2024-11-05) on http://127.0.0.1:${port}/sse`,
          `  backends:  ${urls.map((u, i) => `${names[i]} ${u}`).join('\n             ')}`,
          `  admin:     http://127.0.0.1:${adminPort}/backends  /metrics  /readyz`,
          '',
          '  In another terminal:  npm run demo:client                 (2025 sessions)',
          '                        npm run demo:client -- --era 2026   (stateless, input_required, a task)',
          '                        npm run demo:client -- --era sse    (legacy HTTP+SSE)',
          '  (or point any MCP client at the URL above). Ctrl-C stops the demo.',
          '',
        ].join('\n') + '\n',
      );
    } else if (msg.msg === 'request') {
      const who = msg.backend ? names[urls.indexOf(msg.backend)] ?? msg.backend : '-';
      const what = msg.method ?? (msg.rpc === 'response' ? '(client answers a server request)' : '');
      const tag = msg.session ? ` session ${msg.session}` : msg.task ? ` task ${msg.task}` : '';
      process.stdout.write(`  ${msg.http} ${what} -> ${who} ${msg.status} ${msg.ms} ms [${msg.route ?? '-'}]${tag}\n`);
    } else if (msg.level === 'warn' || msg.level === 'error' || msg.level === 'fatal') {
      process.stdout.write(`  [gateway ${msg.level}] ${line}\n`);
    }
  } catch {
    process.stdout.write(`[gateway] ${line}\n`);
  }
});
