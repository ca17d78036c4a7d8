// The verdict logic (backends/verdicts.ts) with a clock passed in: suspicion ejects and keeps sessions,
// only proof (refused for the whole grace, ejected past the upper bound) loses a backend, and the
// gateway's own failures change nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Backend } from '../../gateway/src/backends/backend.ts';
import { BackendRegistry } from '../../gateway/src/backends/registry.ts';
import { causeOf, Verdicts, type VerdictOptions } from '../../gateway/src/backends/verdicts.ts';
import { classifyUpstreamError } from '../../gateway/src/proxy/upstream-error.ts';

const OPTS: VerdictOptions = { refusedGraceMs: 5_000, lostAfterMs: 60_000, ejectionBaseMs: 1_000, ejectionMaxMs: 30_000 };

function setup(opts = OPTS) {
  const registry = new BackendRegistry({ connectTimeoutMs: 1000, headersTimeoutMs: 1000 }, pino({ level: 'silent' }));
  registry.update([{ id: 'b', url: new URL('http://198.18.0.1:8080/mcp'), ready: true, draining: false }]);
  const events: string[] = [];
  registry.on('ejected', (_b, cause) => events.push(`ejected:${cause}`));
  registry.on('restored', () => events.push('restored'));
  registry.on('lost', (_b, reason) => events.push(`lost:${reason}`));
  const b = registry.get('b') as Backend;
  return { registry, verdicts: new Verdicts(registry, opts), b, events };
}

const timeout = { kind: 'failed', cause: 'probe-timeout', detail: 't' } as const;
const refused = { kind: 'failed', cause: 'connect-refused', detail: 'ECONNREFUSED' } as const;

test('a probe timeout ejects: out of rotation, sessions kept; an answer after the ejection time restores', async () => {
  const { registry, verdicts, b, events } = setup();
  verdicts.observe(b, timeout, 1_000);
  assert.deepEqual([b.state, b.stateCause, b.stateSince, b.acceptsNew, b.servesExisting, b.healthy], ['ejected', 'probe-timeout', 1_000, false, true, false]);
  assert.equal(registry.live().length, 0, 'no new sessions or sessionless requests go there');
  verdicts.observe(b, { kind: 'answered' }, 1_500);
  assert.equal(b.state, 'ejected', 'the first ejection lasts the base time (1 s)');
  verdicts.observe(b, { kind: 'answered' }, 2_000);
  assert.equal(b.state, 'serving');
  assert.deepEqual(events, ['ejected:probe-timeout', 'restored']);
  await registry.close();
});

test('flapping backends stay out longer each time (backoff), and the backoff decays after a calm spell', async () => {
  const { registry, verdicts, b } = setup();
  const lengths: number[] = [];
  let now = 0;
  for (let i = 0; i < 7; i++) {
    verdicts.observe(b, { kind: 'failed', cause: '5xx', detail: '503' }, now);
    lengths.push(b.ejectedUntil - now);
    now = b.ejectedUntil;
    verdicts.observe(b, { kind: 'answered' }, now);
    assert.equal(b.state, 'serving');
  }
  assert.deepEqual(lengths, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  now += OPTS.ejectionMaxMs; // in rotation for the longest ejection time: start over
  verdicts.observe(b, { kind: 'failed', cause: '5xx', detail: '503' }, now);
  assert.equal(b.ejectedUntil - now, 1_000);
  await registry.close();
});

test('refused on every probe for the grace proves loss; a refusal shorter than the grace only ejects', async () => {
  const { registry, verdicts, b, events } = setup();
  verdicts.observe(b, refused, 10_000);
  verdicts.observe(b, refused, 12_000);
  verdicts.observe(b, refused, 14_999);
  assert.equal(b.state, 'ejected', 'refused for less than the grace: suspicion only');
  verdicts.observe(b, { kind: 'answered' }, 15_500);
  assert.equal(b.state, 'serving', 'came back within the grace: nothing was lost');
  // Again, and this time an answer of another kind (a timeout) breaks the run of refusals.
  verdicts.observe(b, refused, 20_000);
  verdicts.observe(b, timeout, 23_000);
  verdicts.observe(b, refused, 26_000);
  assert.equal(b.state, 'ejected', 'the grace counts from the first refusal of an unbroken run');
  verdicts.observe(b, refused, 31_000);
  assert.deepEqual([b.state, b.stateCause, b.lostSince], ['lost', 'refused', 31_000]);
  assert.equal(b.servesExisting, false);
  assert.deepEqual(events, ['ejected:connect-refused', 'restored', 'ejected:connect-refused', 'lost:refused']);
  // Something answers at the address again (a restarted server): back in rotation, old sessions stay lost.
  verdicts.observe(b, { kind: 'answered' }, 32_000);
  assert.deepEqual([b.state, b.lostSince], ['serving', 31_000]);
  await registry.close();
});

test('ejected past the upper bound proves loss, whatever the cause; time alone hands that verdict down', async () => {
  const { registry, verdicts, b, events } = setup();
  verdicts.observe(b, timeout, 0);
  verdicts.check(b, 59_999);
  assert.equal(b.state, 'ejected', 'a long stall (59 s) is still only suspicion');
  verdicts.check(b, 60_000);
  assert.deepEqual([b.state, b.stateCause], ['lost', 'ejected-too-long']);
  verdicts.check(b, 120_000);
  assert.deepEqual(events, ['ejected:probe-timeout', 'lost:ejected-too-long'], "'lost' is emitted once");
  await registry.close();
});

test("the gateway's own failures prove nothing: no ejection, and no effect on a refused run", async () => {
  const { registry, verdicts, b, events } = setup({ ...OPTS, refusedGraceMs: 1_000 });
  verdicts.observe(b, { kind: 'local', detail: 'EADDRNOTAVAIL' }, 0);
  assert.equal(b.state, 'serving');
  for (const code of ['EADDRNOTAVAIL', 'EMFILE', 'ENFILE', 'EAI_AGAIN']) {
    const err = Object.assign(new Error(code), { code });
    const { kind } = classifyUpstreamError(new Error('wrapped', { cause: err }));
    assert.equal(kind, 'local', code);
    assert.equal(causeOf(kind, code), undefined, `${code} is nobody's fault but ours`);
  }
  assert.equal(causeOf('connect', 'ECONNREFUSED'), 'connect-refused');
  assert.equal(causeOf('connect', 'ENOTFOUND'), 'dns');
  assert.equal(causeOf('connect', 'UND_ERR_CONNECT_TIMEOUT'), 'connect-timeout');
  assert.deepEqual(events, []);
  verdicts.observe(b, refused, 10_000);
  verdicts.observe(b, { kind: 'local', detail: 'EMFILE' }, 10_500);
  verdicts.observe(b, refused, 11_000);
  assert.deepEqual([b.state, b.stateCause], ['lost', 'refused'], 'a local failure in between neither breaks nor extends the run');
  await registry.close();
});

test('waiting for a verdict: woken by a restore or a loss, bounded otherwise, and cut by the client', async () => {
  const { registry, verdicts, b } = setup({ ...OPTS, ejectionBaseMs: 0 });
  assert.equal(await registry.waitForVerdict(b, 10_000), 'serving', 'a serving backend: no wait');
  verdicts.observe(b, timeout);
  const restored = registry.waitForVerdict(b, 60_000);
  verdicts.observe(b, { kind: 'answered' });
  assert.equal(await restored, 'serving');
  verdicts.observe(b, timeout);
  assert.equal(await registry.waitForVerdict(b, 50), 'ejected', 'the bound runs out: still ejected');
  const gone = new AbortController();
  const cut = registry.waitForVerdict(b, 60_000, gone.signal);
  gone.abort();
  assert.equal(await cut, 'ejected');
  const lost = registry.waitForVerdict(b, 60_000);
  registry.update([]); // left discovery: proof
  assert.equal(await lost, 'lost');
  await registry.close();
});
