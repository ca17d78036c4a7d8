// The requests counter's labels and tallies: each response is counted under its own label set, also when
// consecutive responses alternate between sets (the last set is remembered for speed: metrics/metrics.ts,
// metrics/labels.ts, metrics/tool-names.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { methodLabel } from '../../gateway/src/metrics/labels.ts';
import { createMetrics } from '../../gateway/src/metrics/metrics.ts';
import { ToolNames } from '../../gateway/src/metrics/tool-names.ts';

/** A new string each time, as a parsed request's method is. */
const fresh = (s: string): string => Buffer.from(s).toString();

test('methodLabel: a known method is itself, anything else `other`, in any order', () => {
  // The empty method first: before any method was seen, nothing is remembered to match it.
  const seen = ['', 'tools/call', 'made/up', 'tools/call', '', 'ping', 'ping', 'tools/call', 'Tools/Call'].map((m) => methodLabel('POST', fresh(m)));
  assert.deepEqual(seen, ['other', 'tools/call', 'other', 'tools/call', 'other', 'ping', 'ping', 'tools/call', 'other']);
  assert.equal(methodLabel('GET', undefined), 'stream');
  assert.equal(methodLabel('POST', undefined, true), 'response');
});

test('ToolNames.label: a name turned `other` becomes itself once a backend lists it, right after being labelled', () => {
  const names = new ToolNames(1);
  assert.equal(names.label(fresh('first')), 'first');
  assert.equal(names.label(fresh('late')), 'other');
  assert.equal(names.label(fresh('first')), 'first');
  names.learnFromToolsList(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'late' }] } }));
  assert.equal(names.label(fresh('late')), 'late');
  assert.equal(names.label(fresh('first')), 'first');
  assert.equal(names.label(fresh('other-one')), 'other');
});

test('countRequest: alternating label sets are each counted, and every response is in the histogram', async () => {
  const metrics = createMetrics(new Registry(), { processMetrics: false });
  const calls: Array<[string, string, number]> = [
    ['tools/call', 'a', 200],
    ['tools/call', 'a', 200],
    ['tools/call', 'b', 200],
    ['tools/call', 'a', 200],
    ['tools/call', 'a', 500],
    ['ping', '', 200],
    ['tools/call', 'a', 200],
  ];
  for (const [method, tool, status] of calls) metrics.countRequest(fresh(method), fresh(tool), status, 0.001);
  const text = await metrics.registry.metrics();
  const count = (labels: string) => Number(new RegExp(`^mcp_gateway_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1]);
  assert.equal(count('method="tools/call",tool="a",status="200"'), 4);
  assert.equal(count('method="tools/call",tool="b",status="200"'), 1);
  assert.equal(count('method="tools/call",tool="a",status="500"'), 1);
  assert.equal(count('method="ping",tool="",status="200"'), 1);
  assert.match(text, /^mcp_gateway_request_duration_seconds_count\{method="tools\/call"\} 6$/m);
  assert.match(text, /^mcp_gateway_request_duration_seconds_count\{method="ping"\} 1$/m);
  // Counted once: a second scrape adds nothing.
  metrics.countRequest('tools/call', 'a', 200, 0.001);
  const again = await metrics.registry.metrics();
  assert.match(again, /^mcp_gateway_requests_total\{method="tools\/call",tool="a",status="200"\} 5$/m);
});
