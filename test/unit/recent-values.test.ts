import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentValues } from '../../gateway/src/http/recent-values.ts';

test('a value is computed once while remembered; the memory stays bounded and skips long values', () => {
  let calls = 0;
  const r = new RecentValues((v: string) => (calls++, v.length), 3);
  assert.equal(r.get('ab'), 2);
  assert.equal(r.get('ab'), 2);
  assert.equal(calls, 1, 'remembered');
  for (const v of ['c', 'd', 'e']) r.get(v); // the fourth distinct value empties the memory first
  r.get('ab');
  assert.equal(calls, 5, 'forgotten when the memory filled up');
  const long = 'x'.repeat(300);
  r.get(long);
  r.get('ab');
  r.get(long);
  assert.equal(calls, 7, 'values over 256 characters are not remembered beyond the last one');
});

test('the last value is answered as it was computed, also when values alternate', () => {
  // New strings each time, as header values are: equal content, not the same object.
  const fresh = (s: string) => Buffer.from(s).toString();
  let calls = 0;
  const r = new RecentValues((v: string) => (calls++, `<${v}>`));
  assert.equal(r.get(fresh('a')), '<a>');
  assert.equal(r.get(fresh('a')), '<a>');
  assert.equal(r.get(fresh('b')), '<b>');
  assert.equal(r.get(fresh('a')), '<a>');
  assert.equal(r.get(fresh('b')), '<b>');
  assert.equal(calls, 2);
});
