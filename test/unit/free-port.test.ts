// The test helper that picks ports: two calls in a row must not name the same port, or a gateway started
// with --port and --admin-port from it refuses to start (seen in CI: "must differ from --port").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../support/redis.ts';

test('freePort never hands out the same port twice in one process, even after its listener closed', async () => {
  const ports: number[] = [];
  for (let i = 0; i < 300; i++) ports.push(await freePort());
  assert.equal(new Set(ports).size, ports.length);
  assert.ok(ports.every((p) => p > 0 && p < 65536));
});
