// The request id (http/request-id.ts): a client's well-formed X-Request-Id is kept; otherwise the gateway's
// own, which must be unique and must itself be a well-formed X-Request-Id (a client may pass it on).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { requestId } from '../../gateway/src/http/request-id.ts';

const req = (given?: string | string[]) => ({ headers: given === undefined ? {} : { 'x-request-id': given } });
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

test("a client's well-formed X-Request-Id is the request's id", () => {
  assert.equal(requestId(req('trace-42:a.b_c')), 'trace-42:a.b_c');
});

test('a malformed, overlong or repeated X-Request-Id is replaced by one of ours', () => {
  for (const given of ['has space', 'quote"d', 'x'.repeat(129), '', 'é', ['a', 'b']]) {
    const id = requestId(req(given));
    assert.notEqual(id, given);
    assert.match(id, WELL_FORMED, `for ${JSON.stringify(given)}`);
  }
});

test('our ids are unique within a process and well-formed', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 100_000; i++) {
    const id = requestId(req());
    assert.match(id, WELL_FORMED);
    ids.add(id);
  }
  assert.equal(ids.size, 100_000);
});

test('two processes draw different prefixes (replicas and workers never share ids)', () => {
  const script = "import { requestId } from './gateway/src/http/request-id.ts'; process.stdout.write(requestId({ headers: {} }));";
  const once = () => execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../../', import.meta.url) }).toString();
  const [a, b] = [once(), once()];
  assert.match(a, WELL_FORMED);
  assert.notEqual(a, b);
  assert.notEqual(a.split('-')[0], b.split('-')[0]);
});
