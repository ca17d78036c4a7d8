// The MCP Inspector (v2, `@modelcontextprotocol/inspector`, pinned devDependency) in its --cli mode, as a user
// would point it at the gateway: lists and calls tools over Streamable HTTP and HTTP+SSE, through a gateway
// without auth and through one that requires an API key (bearer token), which it is then given as a header.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO } from '../support/backends.ts';
import { startBackends } from '../support/backends.ts';
import { startFleet, type Fleet } from './fleet.ts';

const INSPECTOR = join(REPO, 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js');
const KEY = randomBytes(24).toString('hex');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One Inspector CLI invocation, bounded (a hang is a failure, not a stuck suite). */
function inspector(args: string[], home: string): Promise<CliRun> {
  return new Promise((resolve) => {
    // HOME and the catalog in a scratch directory: the run leaves nothing in the user's ~/.mcp-inspector.
    const env = { ...process.env, HOME: home, MCP_CATALOG_PATH: join(home, 'mcp.json') };
    execFile(process.execPath, [INSPECTOR, '--cli', ...args], { cwd: REPO, env, timeout: 60_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('MCP Inspector --cli through the gateway', () => {
  let open: Fleet;
  let guarded: Fleet;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inspector-'));
    open = await startFleet(await startBackends(['r1', 'r2']));
    const digest = createHash('sha256').update(KEY).digest('hex');
    guarded = await startFleet(await startBackends(['r1', 'r2']), ['--auth', 'api-key', '--resource-url', 'https://mcp.example.com/mcp'], {
      AUTH_API_KEYS: `inspector sha256:${digest}`,
    });
  });
  after(async () => {
    await Promise.allSettled([open?.stop(), guarded?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    { transport: 'http', path: '/mcp' },
    { transport: 'sse', path: '/sse' },
  ] as const;

  for (const { transport, path } of cases) {
    for (const auth of [false, true]) {
      test(`${transport}${auth ? ', with a bearer token' : ''}: tools/list and tools/call`, async () => {
        const fleet = auth ? guarded : open;
        const url = `${fleet.origins[0]}${path}`;
        const headers = auth ? ['--header', `Authorization: Bearer ${KEY}`] : [];
        const list = await inspector([url, '--transport', transport, ...headers, '--method', 'tools/list'], dir);
        assert.equal(list.code, 0, `tools/list failed: ${list.stderr.slice(-2000)}`);
        const names = (JSON.parse(list.stdout) as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
        assert.ok(names.includes('whoami') && names.includes('ask_model'), names.join(','));

        const call = await inspector([url, '--transport', transport, ...headers, '--method', 'tools/call', '--tool-name', 'whoami'], dir);
        assert.equal(call.code, 0, `tools/call failed: ${call.stderr.slice(-2000)}`);
        const result = JSON.parse(call.stdout) as { structuredContent?: { replica?: string } };
        assert.ok(['r1', 'r2'].includes(result.structuredContent?.replica ?? ''), call.stdout.slice(0, 500));

        if (auth) {
          // Without the token the gateway answers 401 with its challenge; the CLI (non-interactive) reports that
          // authorization is required instead of starting an OAuth flow.
          const refused = await inspector([url, '--transport', transport, '--stored-auth-only', '--method', 'tools/list'], dir);
          assert.notEqual(refused.code, 0, 'no token, no tools');
          assert.match(`${refused.stdout}${refused.stderr}`, /auth_required|401|nauthorized/);
        }
      });
    }
  }
});
