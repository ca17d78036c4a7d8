// The `mcp-gateway` command as users run it: help, version, and exit code 2 naming the bad option.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { OPTIONS } from '../../gateway/src/config/options.ts';
import { REPO } from '../support/backends.ts';

function gw(args: string[], env: Record<string, string> = {}, entry = 'gateway/src/main.ts') {
  return spawnSync(process.execPath, [entry, ...args], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
}

test('--help lists every option and its environment variable, exit 0', () => {
  const r = gw(['--help']);
  assert.equal(r.status, 0);
  for (const o of OPTIONS) {
    assert.ok(r.stdout.includes(`--${o.flag}`));
    assert.ok(r.stdout.includes(o.env));
  }
});

test('an invalid value exits with code 2 and a message naming the option', () => {
  const r = gw(['--backends', 'http://127.0.0.1:1/mcp', '--port', 'http']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--port \(PORT\): expected an integer/);
  const e = gw(['--backends', 'http://127.0.0.1:1/mcp'], { SESSION_TTL: 'forever' });
  assert.equal(e.status, 2);
  assert.match(e.stderr, /--session-ttl \(SESSION_TTL\): expected a duration/);
  const u = gw(['--no-such-flag']);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /no-such-flag/);
});

test('the built command (bin/mcp-gateway.js) runs', () => {
  assert.ok(existsSync(`${REPO}/dist/gateway/src/main.js`), 'run `npm run build` first (npm test does)');
  const r = gw(['--version'], {}, 'bin/mcp-gateway.js');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});
