import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ToolNames } from '../../gateway/src/metrics/tool-names.ts';

test('names listed by a backend are labelled; made-up names beyond the limit are `other`', () => {
  const names = new ToolNames(3);
  const listed = names.learnFromToolsList(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'search' }, { name: 'fetch' }] } }));
  assert.equal(listed, 2);
  const labels = new Set<string>();
  for (let i = 0; i < 1000; i++) labels.add(names.label(`made-up-${i}`));
  labels.add(names.label('search'));
  labels.add(names.label('fetch'));
  assert.deepEqual([...labels].sort(), ['fetch', 'made-up-0', 'made-up-1', 'made-up-2', 'other', 'search']);
});

test('learns from an SSE response too', () => {
  const names = new ToolNames(0);
  const sse = 'event: message\nid: 1\ndata: {"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"ask_model"},{"name":"whoami"}]}}\n\n';
  assert.equal(names.learnFromToolsList(sse), 2);
  assert.equal(names.label('whoami'), 'whoami');
  assert.equal(names.label('nope'), 'other');
  assert.equal(names.learnFromToolsList('not json at all'), 0);
});
