// The pieces that look at bytes in passing: header value decoding, SSE event framing, the legacy endpoint
// rewrite and the task-handle watch. Properties: whatever the chunking, the output is the input (except the
// one event the endpoint rewrite must change), and what they learn is what the stream said.
import assert from 'node:assert/strict';
import type { Transform } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeHeaderValue, encodeHeaderValue } from '../../gateway/src/mcp/header-values.ts';
import { LegacyEndpointFilter, readEndpoint } from '../../gateway/src/mcp/legacy-endpoint.ts';

const PATHS = { ssePath: '/sse', messagesPath: '/messages' };
import { eventEnd, parseEvent } from '../../gateway/src/mcp/sse-events.ts';
import { findCreatedTask, TaskWatch, type CreatedTask } from '../../gateway/src/mcp/task-watch.ts';

/** Splits `bytes` at the given cut points. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  return out;
}

async function through(t: Transform, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  t.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    t.on('end', resolve);
    t.on('error', reject);
  });
  for (const c of chunks) t.write(c);
  t.end();
  await done;
  return Buffer.concat(out);
}

const cuts = fc.array(fc.nat({ max: 4000 }), { maxLength: 12 });

test('header values: the base64 sentinel decodes; plain values stay; malformed or repeated ones are nothing', () => {
  assert.equal(decodeHeaderValue('get_weather'), 'get_weather');
  assert.equal(decodeHeaderValue('=?base64?SGVsbG8sIOS4lueVjA==?='), 'Hello, 世界');
  assert.equal(decodeHeaderValue('=?base64?not base64!?='), undefined);
  assert.equal(decodeHeaderValue(['a', 'b']), undefined);
  assert.equal(decodeHeaderValue(''), undefined);
  assert.equal(encodeHeaderValue('=?base64?literal?='), '=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=', 'the spec example');
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }), (v) => decodeHeaderValue(encodeHeaderValue(v)) === v));
});

const sseLine = fc.stringMatching(/^[a-z]{1,8}: ?[ -~]{0,30}$/);
const terminator = fc.constantFrom('\n', '\r\n', '\r');
const sseEvent = fc.tuple(fc.array(sseLine, { minLength: 1, maxLength: 4 }), terminator).map(([lines, t]) => lines.map((l) => l + t).join('') + t);

test('SSE framing: events end at their blank line, whatever the line terminators', () => {
  fc.assert(
    fc.property(fc.array(sseEvent, { minLength: 1, maxLength: 5 }), (events) => {
      const buf = Buffer.from(events.join(''));
      let from = 0;
      for (const e of events) {
        const end = eventEnd(buf, from);
        // A lone CR at the very end may still be the first half of a CRLF.
        if (end < 0) return assert.ok(buf.length - from === e.length && e.endsWith('\r'));
        assert.equal(end - from, e.length);
        from = end;
      }
    }),
  );
  assert.deepEqual(parseEvent('event: endpoint\r\ndata: /messages?sessionId=1'), { type: 'endpoint', data: '/messages?sessionId=1', empty: false });
  assert.equal(parseEvent(': keep-alive').empty, true);
});

test('legacy endpoint: the advertised URI leads back to the gateway, relative, its path and query kept', () => {
  assert.deepEqual(readEndpoint('http://10.1.2.3:3001/messages?sessionId=abc&x=1', PATHS), { ok: true, sessionId: 'abc', advertised: '/messages?sessionId=abc&x=1' });
  assert.equal(readEndpoint('/rpc?sessionId=s', PATHS).ok, false);
  assert.equal(readEndpoint('/messages', PATHS).ok, false);
});

test('property: the endpoint filter rewrites the first event only, whatever the chunking', async () => {
  const rest = 'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n: keep-alive\n\nevent: message\r\ndata: {"jsonrpc":"2.0","method":"x"}\r\n\r\n';
  const input = Buffer.from(`: opening comment\n\nevent: endpoint\ndata: http://10.1.2.3:3001/messages?sessionId=abc\n\n${rest}`);
  await fc.assert(
    fc.asyncProperty(cuts, async (c) => {
      const seen: string[] = [];
      const out = await through(
        new LegacyEndpointFilter(async (uri) => {
          seen.push(uri);
          const r = readEndpoint(uri, PATHS);
          return r.ok ? r.advertised : uri;
        }),
        chunked(input, c),
      );
      assert.deepEqual(seen, ['http://10.1.2.3:3001/messages?sessionId=abc']);
      assert.equal(out.toString(), `: opening comment\n\nevent: endpoint\ndata: /messages?sessionId=abc\n\n${rest}`);
    }),
    { numRuns: 60 },
  );
  const unchanged = Buffer.from('event: endpoint\r\ndata: /messages?sessionId=abc\r\n\r\nevent: message\r\ndata: 1\r\n\r\n');
  assert.equal((await through(new LegacyEndpointFilter(async (u) => u), [unchanged])).toString(), unchanged.toString(), 'nothing to change: the bytes as sent');
  await assert.rejects(through(new LegacyEndpointFilter(async (u) => u), [Buffer.from('event: message\ndata: {}\n\n')]), /not 'endpoint'/);
});

const taskResult = (id: string) => JSON.stringify({ jsonrpc: '2.0', id: 7, result: { resultType: 'task', taskId: id, status: 'working', ttlMs: 60000 } });
const plainResult = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { resultType: 'complete', content: [{ type: 'text', text: '"resultType":"task"' }] } });

test('a CreateTaskResult is recognised by its shape, nothing else is', () => {
  assert.deepEqual(findCreatedTask(Buffer.from(taskResult('t-1'))), { taskId: 't-1' });
  assert.equal(findCreatedTask(Buffer.from(plainResult)), undefined);
  assert.equal(findCreatedTask(Buffer.from('{"resultType":"task"')), undefined);
});

test('property: the task watch learns the task before passing the bytes on, unchanged', async () => {
  const sse = Buffer.from(`event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\nevent: message\ndata: ${taskResult('t-sse')}\n\n`);
  const json = Buffer.from(taskResult('t-json'));
  await fc.assert(
    fc.asyncProperty(cuts, fc.boolean(), async (c, isSse) => {
      const learned: CreatedTask[] = [];
      const input = isSse ? sse : json;
      const out: Buffer[] = [];
      const watch = new TaskWatch(isSse, async (t) => {
        // Whatever carries the task handle must not have reached the client yet.
        assert.equal(Buffer.concat(out).includes('"resultType":"task"'), false);
        learned.push(t);
      });
      watch.on('data', (b: Buffer) => out.push(b));
      const all = await through(watch, chunked(input, c));
      assert.equal(all.toString(), input.toString());
      assert.deepEqual(learned.map((t) => t.taskId), [isSse ? 't-sse' : 't-json']);
    }),
    { numRuns: 60 },
  );
  const learned: CreatedTask[] = [];
  const big = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { pad: 'x'.repeat(5000), resultType: 'task', taskId: 'late' } }));
  assert.equal((await through(new TaskWatch(false, async (t) => void learned.push(t), 1024), [big])).toString(), big.toString());
  assert.equal(learned.length, 0, 'past the size bound the watch stops looking: a task handle is small');
  assert.equal((await through(new TaskWatch(false, async (t) => void learned.push(t)), [Buffer.from(plainResult)])).toString(), plainResult);
  assert.equal(learned.length, 0);
});
