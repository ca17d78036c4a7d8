// Per-response bookkeeping in batches (http/response-accounting.ts, http/exchange.ts): the responses that end
// in one event-loop turn are accounted together after it, each once, with the facts as they stood when the
// response ended; shutdown and exit account what is still queued.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { DestinationStream } from 'pino';
import { Registry } from 'prom-client';
import { AccessLog } from '../../gateway/src/http/access-log.ts';
import { Exchange } from '../../gateway/src/http/exchange.ts';
import { accountLater, accountPending } from '../../gateway/src/http/response-accounting.ts';
import { createMetrics } from '../../gateway/src/metrics/metrics.ts';
import { ToolNames } from '../../gateway/src/metrics/tool-names.ts';
import type { RequestSummary } from '../../gateway/src/tracing/tracing.ts';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('queued in one turn: accounted together after it, in order, once each', async () => {
  const seen: string[] = [];
  accountLater({ account: () => void seen.push('a') });
  accountLater({ account: () => void seen.push('b') });
  assert.deepEqual(seen, [], 'nothing during the turn the responses ended in');
  await nextTurn();
  assert.deepEqual(seen, ['a', 'b']);
  accountPending();
  await nextTurn();
  assert.deepEqual(seen, ['a', 'b'], 'never twice');
});

test('accountPending does the queued work at once (shutdown, exit)', () => {
  const seen: number[] = [];
  accountLater({ account: () => void seen.push(1) });
  accountPending();
  assert.deepEqual(seen, [1]);
});

test('one failing record: the rest of the batch is still accounted, then the failure surfaces', () => {
  const seen: string[] = [];
  accountLater({ account: () => void seen.push('before') });
  accountLater({
    account: () => {
      throw new Error('broken record');
    },
  });
  accountLater({ account: () => void seen.push('after') });
  assert.throws(() => accountPending(), /broken record/);
  assert.deepEqual(seen, ['before', 'after']);
  accountPending();
  assert.deepEqual(seen, ['before', 'after'], 'the batch is not run again');
});

test('an Exchange: span ended with the response, line and metrics after the turn, facts as at the end', async () => {
  const out: string[] = [];
  const log = new AccessLog('info', 'inst1', { write: (s: string) => void out.push(s) } as unknown as DestinationStream);
  // Lines written so far (the log holds them in its own batch until flushed, so `out` cannot tell).
  let lines = 0;
  const write = log.write.bind(log);
  log.write = (l) => {
    lines++;
    write(l);
  };
  const metrics = createMetrics(new Registry(), { processMetrics: false });
  const spans: RequestSummary[] = [];
  const span = { recording: true, upstreamStart: () => ({ end: () => undefined }), end: (s: RequestSummary) => void spans.push(s) };
  let finished: (() => void) | undefined;
  const server = createServer((_req, res: ServerResponse) => {
    const ex = new Exchange('POST', 'r-1', res, log, { metrics, toolNames: new ToolNames(10) }, span);
    ex.rpcMethod = 'tools/call';
    ex.tool = 'echo';
    ex.route = 'session';
    ex.markHeaders();
    res.once('close', () => {
      // What a route sets after the response is over is not the response's (forwarder.relay's outcome).
      ex.outcome = 'set-too-late';
      assert.equal(spans.length, 1, 'the span ended as the response did');
      assert.equal(lines, 0, 'no line yet: accounted after this turn');
      finished?.();
    });
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const closed = new Promise<void>((resolve) => (finished = resolve));
    const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method: 'POST', body: '{}' });
    assert.equal(await r.text(), 'ok');
    await closed;
    await nextTurn();
    assert.equal(lines, 1);
    log.flush();
    const line = JSON.parse(out.join('')) as Record<string, unknown>;
    assert.equal(line.reqId, 'r-1');
    assert.equal(line.status, 200);
    assert.equal(line.tool, 'echo');
    assert.equal(line.outcome, undefined, 'the outcome set after the end is not in the line');
    assert.equal(spans[0]?.status, 200);
    // What a scrape sees (the counter's pending increments are folded in when it is collected: metrics.ts).
    const text = await metrics.registry.metrics();
    assert.match(text, /mcp_gateway_requests_total\{method="tools\/call",tool="echo",status="200"\} 1\n/);
  } finally {
    server.close();
    log.close();
  }
});
