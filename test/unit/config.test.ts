import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { helpText } from '../../gateway/src/config/help.ts';
import { loadConfig } from '../../gateway/src/config/load.ts';
import { refusal as problems } from '../support/config.ts';
import { OPTIONS } from '../../gateway/src/config/options.ts';
import { parseDuration } from '../../gateway/src/config/values.ts';

const B = ['--backends', 'http://a:3000/mcp'];

function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const r = loadConfig(argv, env);
  assert.equal(r.kind, 'run');
  return (r as Extract<typeof r, { kind: 'run' }>).config;
}


test('defaults match the documented contract', () => {
  const c = run(B);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.port, 8080);
  assert.equal(c.adminPort, 9090);
  assert.equal(c.mcpPath, '/mcp');
  assert.equal(c.redisUrl, undefined);
  assert.equal(c.sseKeepAliveMs, 15_000);
  assert.equal(c.discovery, 'static');
  assert.deepEqual(c.backends.map((u) => u.href), ['http://a:3000/mcp']);
  assert.deepEqual([c.legacySse, c.ssePath, c.messagesPath], [true, '/sse', '/messages']);
});

test('the legacy HTTP+SSE paths: configurable, used exactly as written, distinct from the MCP path, and off with --no-legacy-sse', () => {
  const c = run([...B, '--sse-path', '/events/', '--messages-path', '/rpc'], {});
  assert.deepEqual([c.ssePath, c.messagesPath], ['/events/', '/rpc']);
  assert.equal(run([...B, '--messages-path', '/messages/'], {}).messagesPath, '/messages/', 'the trailing slash stays');
  assert.equal(run([...B, '--no-legacy-sse']).legacySse, false);
  assert.equal(run(B, { LEGACY_SSE: 'false' }).legacySse, false);
  const p = problems([...B, '--sse-path', '/mcp']);
  assert.ok(p.some((m) => m.startsWith('--sse-path (SSE_PATH), --messages-path (MESSAGES_PATH): must differ')), p.join('\n'));
  assert.equal(run([...B, '--no-legacy-sse', '--sse-path', '/mcp']).legacySse, false, 'unused paths may clash');
  assert.ok(problems([...B, '--messages-path', '/']).some((m) => m.startsWith("--messages-path (MESSAGES_PATH): must not be '/'")));
});

test('flags beat environment, which beats the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ port: 7000, 'admin-port': 7001, 'log-level': 'debug', backends: ['http://x:1/mcp', 'http://y:2/mcp'] }));
  const c = run(['--config', file, '--port', '7100'], { ADMIN_PORT: '7101' });
  assert.equal(c.port, 7100);
  assert.equal(c.adminPort, 7101);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.backends.length, 2);
});

test('every invalid value is reported at once, naming flag and environment variable', () => {
  const p = problems(['--port', 'eighty', '--sse-keepalive', '15', '--backends', 'ftp://nope'], { LOG_LEVEL: 'loud' });
  assert.equal(p.length, 4, p.join('\n'));
  assert.ok(p.some((m) => m.startsWith('--port (PORT): expected an integer')));
  assert.ok(p.some((m) => m.startsWith('--sse-keepalive (SSE_KEEPALIVE): expected a duration')));
  assert.ok(p.some((m) => m.startsWith('--backends (MCP_BACKENDS): expected an http or https backend URL')));
  assert.ok(p.some((m) => m.startsWith('--log-level (LOG_LEVEL): expected one of')));
});

test('unknown flags, missing backends and a clash of ports are refused', () => {
  assert.match(problems(['--bogus', '1'])[0] as string, /bogus/);
  assert.match(problems([])[0] as string, /^--backends \(MCP_BACKENDS\): static discovery needs/);
  assert.match(problems([...B, '--port', '9000', '--admin-port', '9000'])[0] as string, /^--admin-port/);
  assert.match(problems(['--backends', 'http://a/mcp,http://a/mcp'])[0] as string, /listed twice/);
});

test('a Redis URL with a password is never echoed in an error', () => {
  const p = problems([...B, '--redis-url', 'http://user:s3cret@host:6379']);
  assert.equal(p.length, 1);
  assert.ok(!p[0]!.includes('s3cret'));
});

test('durations need a unit', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('15s'), 15_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.throws(() => parseDuration('15'));
  assert.throws(() => parseDuration('-1s'));
});

test('--help documents every option with its environment variable', () => {
  const help = helpText();
  for (const o of OPTIONS) {
    assert.ok(help.includes(`--${o.flag}`), `--${o.flag} in help`);
    assert.ok(help.includes(`env ${o.env};`), `${o.env} in help`);
  }
  assert.equal(loadConfig(['--help'], {}).kind, 'help');
});

test('--session-recovery-identity: off by default; needs auth, recovery, and an identity header the backend can check', () => {
  const A = [...B, '--auth', 'api-key', '--resource-url', 'https://mcp.example.com/mcp'];
  const env = { AUTH_API_KEYS: 'alice sha256:' + 'a'.repeat(64) };
  assert.equal(run(A, env).sessionRecoveryIdentity, false);
  assert.equal(run([...A, '--session-recovery-identity'], env).sessionRecoveryIdentity, true);
  assert.match(problems([...B, '--session-recovery-identity']).join('\n'), /session-recovery-identity.*needs --auth/);
  assert.match(problems([...A, '--session-recovery-identity', '--no-session-recovery'], env).join('\n'), /needs --session-recovery/);
  assert.match(problems([...A, '--session-recovery-identity', '--identity-headers', 'none'], env).join('\n'), /needs an identity header/);
});
