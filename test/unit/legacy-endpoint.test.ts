// The 2024-11-05 endpoint URI is opaque: the gateway recognises the session id whatever the server calls it,
// relays the URI's path and query unchanged, and reads the same id back from each message POST.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isLegacyMessagePath, readEndpoint, sessionIdOf } from '../../gateway/src/mcp/legacy-endpoint.ts';

const PATHS = { ssePath: '/sse', messagesPath: '/messages' };
const ID = '5f1c0a9e-62a4-4d6e-9d8e-3c1b2a4f6e70';

test('every official SDK layout: the session id is recognised and the URI relayed as the server wrote it', () => {
  const layouts: Array<[string, string]> = [
    [`/messages?sessionId=${ID}`, 'TypeScript SDK'],
    [`/messages/?session_id=${ID.replaceAll('-', '')}`, 'Python SDK'],
    [`/sse?sessionid=${ID}`, 'Go SDK: the stream path, lower case'],
    [`/messages/${ID}`, 'an id in the path'],
    [`/messages?Session-Id=${ID}&x=1`, 'any spelling, other parameters kept'],
  ];
  for (const [uri, who] of layouts) {
    const r = readEndpoint(uri, PATHS);
    assert.ok(r.ok, who);
    assert.equal(r.advertised, uri, `${who}: relayed byte for byte`);
    const url = new URL(uri, 'http://gw.invalid');
    assert.equal(sessionIdOf(url.pathname, url.searchParams, PATHS), r.sessionId, `${who}: a POST to the URI names the same session`);
    assert.ok(r.sessionId.length >= 32, who);
  }
});

test('an absolute or stream-relative URI is advertised origin-relative (the client comes back through the gateway)', () => {
  assert.deepEqual(readEndpoint(`http://10.0.0.7:8000/messages/?session_id=abc`, PATHS), { ok: true, sessionId: 'abc', advertised: '/messages/?session_id=abc' });
  assert.deepEqual(readEndpoint(`messages?sessionId=abc`, PATHS), { ok: true, sessionId: 'abc', advertised: '/messages?sessionId=abc' });
});

test('configured paths are used as written: /messages/ serves the Python layout, and anything under it', () => {
  const slash = { ssePath: '/sse', messagesPath: '/messages/' };
  assert.equal(readEndpoint('/messages/?session_id=abc', slash).ok, true);
  assert.equal(readEndpoint('/messages/abc', slash).ok, true);
  assert.equal(isLegacyMessagePath('/messages', slash), true);
  assert.equal(isLegacyMessagePath('/messagesX', slash), false);
  assert.equal(isLegacyMessagePath('/sse', slash), true);
});

test('URIs the gateway cannot carry are refused with a reason, never guessed at', () => {
  const outside = readEndpoint('/rpc?sessionId=abc', PATHS);
  assert.equal(outside.ok, false);
  assert.match(outside.ok ? '' : outside.why, /outside --sse-path and --messages-path/);
  assert.equal(readEndpoint('/messages', PATHS).ok, false, 'no id at all');
  assert.equal(readEndpoint('/messages?sessionId=a&session_id=b', PATHS).ok, false, 'two candidates are ambiguous');
  assert.equal(readEndpoint('/messages/a/b', PATHS).ok, false, 'a nested path is not a session id');
  assert.equal(readEndpoint('/messages?sessionId=a%20b', PATHS).ok, false, 'not visible ASCII');
  assert.equal(readEndpoint('http://[bad', PATHS).ok, false);
});

test('property: the id read from the endpoint event is the id read from a POST to the advertised URI', () => {
  const name = fc.constantFrom('sessionId', 'session_id', 'sessionid', 'SESSION-ID');
  const id = fc.stringMatching(/^[A-Za-z0-9._~-]{1,64}$/);
  fc.assert(
    fc.property(name, id, fc.constantFrom('/messages', '/messages/', '/sse'), (n, v, path) => {
      const r = readEndpoint(`${path}?${n}=${v}`, PATHS);
      assert.ok(r.ok);
      assert.equal(r.sessionId, v);
      const url = new URL(r.advertised, 'http://gw.invalid');
      assert.equal(sessionIdOf(url.pathname, url.searchParams, PATHS), v);
    }),
    { numRuns: 200 },
  );
});
