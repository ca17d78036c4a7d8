// The hand-written access line is what pino would write: valid JSON, the same fields in the same order,
// and client-chosen values escaped (a tool name cannot break out of its string or the line).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DestinationStream } from 'pino';
import { AccessLog, type AccessLine } from '../../gateway/src/http/access-log.ts';
import { shortId } from '../../gateway/src/routing/session-directory.ts';

function capture(level = 'info') {
  const out: string[] = [];
  const dest = { write: (s: string) => void out.push(s) };
  return { log: new AccessLog(level, 'inst1', dest as unknown as DestinationStream), out };
}

const LINE: AccessLine = {
  reqId: 'r-1',
  http: 'POST',
  method: 'tools/call',
  status: 200,
  ms: 1.25,
  tool: 'evil"\n}{"level":"fatal',
  sessionId: 'ab"\\cdef0123456789',
  backend: 'b1',
  route: 'session',
  outcome: 'complete',
};

test('one JSON line per request, fields as pino orders them, hostile values escaped', () => {
  const { log, out } = capture();
  log.write(LINE);
  log.flush();
  const text = out.join('');
  assert.equal(text.split('\n').length, 2, 'exactly one line');
  const parsed = JSON.parse(text) as Record<string, unknown>;
  assert.equal(parsed.tool, LINE.tool);
  assert.equal(parsed.session, shortId(LINE.sessionId!), 'the session id shortened, as everywhere in the logs');
  assert.match(text, /^[\x20-\x7e]*\n$/, 'printable ASCII only (the ellipsis escaped): a one-byte string for V8');
  assert.deepEqual(Object.keys(parsed), ['level', 'time', 'pid', 'instance', 'reqId', 'http', 'method', 'status', 'ms', 'tool', 'session', 'backend', 'route', 'outcome', 'msg']);
  assert.equal(parsed.msg, 'request');
  assert.equal(parsed.level, 'info');
  assert.equal(parsed.instance, 'inst1');
  assert.ok(!Number.isNaN(Date.parse(parsed.time as string)));
  log.close();
});

test('batched: lines reach the destination together, and not at all below info', () => {
  const { log, out } = capture();
  for (let i = 0; i < 3; i++) log.write({ ...LINE, reqId: `r-${i}` });
  assert.equal(out.length, 0, 'held until the batch is flushed');
  log.flush();
  assert.equal(out.join('').trim().split('\n').length, 3);
  log.close();
  const quiet = capture('warn');
  quiet.log.write(LINE);
  quiet.log.flush();
  assert.deepEqual(quiet.out, []);
  quiet.log.close();
});
