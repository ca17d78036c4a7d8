import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import { idleWheel, SseKeepAlive } from '../../gateway/src/mcp/sse-keepalive.ts';

/** Feeds chunks with pauses so that keep-alive ticks interleave with data; returns the output. */
async function run(chunks: string[], intervalMs: number, pauseMs: number): Promise<string> {
  const ka = new SseKeepAlive(intervalMs);
  const out: Buffer[] = [];
  const source = Readable.from(
    (async function* () {
      for (const c of chunks) {
        await new Promise((r) => setTimeout(r, pauseMs));
        yield Buffer.from(c);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    })(),
  );
  await pipeline(source, ka, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
  return Buffer.concat(out).toString();
}

const COMMENT = ': keep-alive\n\n';

test('idle streams get comments; data passes through unchanged', async () => {
  const out = await run(['event: message\ndata: {"a":1}\n\n'], 20, 70);
  assert.ok(out.includes(COMMENT));
  assert.equal(out.split(COMMENT).join(''), 'event: message\ndata: {"a":1}\n\n');
});

test('no comment is written inside a half-sent event', async () => {
  // The event arrives in three pieces with long gaps: no keep-alive may land between them.
  const out = await run(['data: {"a"', ':1}\n', '\n'], 10, 40);
  const at = out.indexOf('data: {"a"');
  const end = out.indexOf('\n\n', at);
  assert.ok(!out.slice(at, end).includes(':keep') && !out.slice(at, end + 2).includes(': keep-alive'), out);
  assert.equal(out.split(COMMENT).join(''), 'data: {"a":1}\n\n');
});

test('CRLF event boundaries count as boundaries', async () => {
  const ka = new SseKeepAlive(0);
  ka.write(Buffer.from('data: x\r\n\r\n'));
  assert.equal(ka.atBoundary, true);
  ka.write(Buffer.from('data: y\r\n'));
  assert.equal(ka.atBoundary, false);
  ka.destroy();
});

test('property: removing the comments gives back exactly the input, in order', async () => {
  const event = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ':', '{', '}', '"') }).map((s) => `data: ${s}\n\n`);
  await fc.assert(
    fc.asyncProperty(fc.array(event, { maxLength: 6 }), fc.array(fc.nat({ max: 30 }), { maxLength: 6 }), async (events, cuts) => {
      const text = events.join('');
      const chunks: string[] = [];
      let pos = 0;
      for (const c of cuts) {
        if (pos >= text.length) break;
        chunks.push(text.slice(pos, pos + c + 1));
        pos += c + 1;
      }
      if (pos < text.length) chunks.push(text.slice(pos));
      const out = await run(chunks, 2, 3);
      assert.equal(out.split(COMMENT).join(''), text);
    }),
    { numRuns: 40 },
  );
});

test('one wheel per interval serves every stream; every idle stream gets its keep-alive', async () => {
  const wheel = idleWheel(8);
  assert.equal(idleWheel(8), wheel, 'the same wheel for the same interval');
  const fired = new Map<number, number>();
  const entries = Array.from({ length: 50 }, (_, i) => wheel.add(() => fired.set(i, (fired.get(i) ?? 0) + 1)));
  assert.equal(wheel.size, 50);
  const deadline = Date.now() + 10_000;
  while (fired.size < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(fired.size, 50, 'every idle stream got its keep-alive');
  for (const e of entries) e.cancel();
  assert.equal(wheel.size, 0, 'cancelled entries leave the wheel (and its timer stops)');
});
