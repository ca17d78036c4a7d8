import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { acceptsEventStream, acceptsPostResponse, isJsonContentType } from '../../gateway/src/mcp/accept.ts';
import { isValidSessionId, MAX_SESSION_ID_LENGTH } from '../../gateway/src/mcp/headers.ts';
import { downstreamHeaders, upstreamHeaders } from '../../gateway/src/proxy/headers.ts';

test('session ids: visible ASCII 0x21-0x7E only, bounded length', () => {
  assert.equal(isValidSessionId('1868a90c-6b3f-4a88-b4a3-7d6b8c1e2f00'), true);
  for (const bad of ['', 'has space', 'tab\t', 'crlf\r\n', 'é', '\u007f', 'x'.repeat(MAX_SESSION_ID_LENGTH + 1)]) {
    assert.equal(isValidSessionId(bad), false, JSON.stringify(bad));
  }
  fc.assert(
    fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (s) => {
      const expected = s.length > 0 && s.length <= MAX_SESSION_ID_LENGTH && [...s].every((ch) => ch.charCodeAt(0) >= 0x21 && ch.charCodeAt(0) <= 0x7e);
      assert.equal(isValidSessionId(s), expected);
    }),
    { numRuns: 3000 },
  );
});

test('content negotiation per the Streamable HTTP transport', () => {
  assert.equal(acceptsPostResponse('application/json, text/event-stream'), true);
  assert.equal(acceptsPostResponse('text/event-stream;q=0.9, application/json'), true);
  assert.equal(acceptsPostResponse('application/json'), false);
  assert.equal(acceptsPostResponse(undefined), false);
  assert.equal(acceptsPostResponse('*/*'), true);
  assert.equal(acceptsEventStream('text/event-stream'), true);
  assert.equal(acceptsEventStream('application/json'), false);
  assert.equal(isJsonContentType('application/json; charset=utf-8'), true);
  assert.equal(isJsonContentType('text/plain'), false);
  assert.equal(isJsonContentType(undefined), false);
  // Verdicts are remembered per value (the last one first): alternating values keep their own.
  for (let i = 0; i < 3; i++) {
    assert.equal(acceptsPostResponse('application/json, text/event-stream'), true);
    assert.equal(acceptsPostResponse('application/json'), false);
    assert.equal(isJsonContentType('text/plain'), false);
    assert.equal(isJsonContentType('application/json'), true);
  }
});

test('upstream headers: hop-by-hop and Authorization dropped, MCP headers and Host kept, X-Forwarded-* set', () => {
  const out = upstreamHeaders(
    {
      host: 'gw.example:8080',
      connection: 'keep-alive, x-private',
      'x-private': 'drop me',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      authorization: 'Bearer secret-token',
      'proxy-authorization': 'Basic x',
      'mcp-session-id': 'abc',
      'mcp-protocol-version': '2025-11-25',
      'last-event-id': 'ev-9',
      accept: 'application/json, text/event-stream',
      'mcp-method': 'tools/call',
      'mcp-name': 'search',
      'mcp-param-region': 'us-west1',
      'x-forwarded-for': '6.6.6.6',
      forwarded: 'for=6.6.6.6',
      'content-length': '999',
    },
    { remoteAddress: '10.0.0.9', trustProxy: false },
    42,
  );
  for (const gone of ['connection', 'x-private', 'keep-alive', 'transfer-encoding', 'authorization', 'proxy-authorization', 'forwarded']) {
    assert.equal(out[gone], undefined, `${gone} is not forwarded`);
  }
  assert.equal(out.host, 'gw.example:8080');
  assert.equal(out['mcp-session-id'], 'abc');
  assert.equal(out['mcp-protocol-version'], '2025-11-25');
  assert.equal(out['last-event-id'], 'ev-9');
  assert.equal(out.accept, 'application/json, text/event-stream');
  assert.equal(out['mcp-method'], 'tools/call');
  assert.equal(out['mcp-name'], 'search');
  assert.equal(out['mcp-param-region'], 'us-west1');
  assert.equal(out['x-forwarded-for'], '10.0.0.9', 'an untrusted client cannot spoof X-Forwarded-For');
  assert.equal(out['x-forwarded-proto'], 'http');
  assert.equal(out['x-forwarded-host'], 'gw.example:8080');
  assert.equal(out['content-length'], '42');
});

test('identity headers are set after hop-by-hop removal: a Connection list cannot remove or forge them', () => {
  const own = { 'x-auth-subject': 'ci-bot', 'x-auth-scopes': 'mcp:tools', 'x-auth-identity': 'jwt' };
  const out = upstreamHeaders(
    { host: 'h', connection: 'x-auth-subject, X-Auth-Scopes,x-auth-identity', 'x-auth-subject': 'admin' },
    { remoteAddress: '10.0.0.9', trustProxy: false },
    undefined,
    own,
  );
  assert.deepEqual([out['x-auth-subject'], out['x-auth-scopes'], out['x-auth-identity']], ['ci-bot', 'mcp:tools', 'jwt']);
});

test('behind a trusted proxy, X-Forwarded-For is appended to', () => {
  const out = upstreamHeaders({ host: 'h', 'x-forwarded-for': '1.1.1.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example' }, { remoteAddress: '10.0.0.2', trustProxy: true }, undefined);
  assert.equal(out['x-forwarded-for'], '1.1.1.1, 10.0.0.2');
  assert.equal(out['x-forwarded-proto'], 'https');
  assert.equal(out['x-forwarded-host'], 'public.example');
});

test('downstream headers keep Mcp-Session-Id and drop hop-by-hop fields', () => {
  const out = downstreamHeaders({ 'mcp-session-id': 's', connection: 'close', 'transfer-encoding': 'chunked', 'content-type': 'text/event-stream' });
  assert.deepEqual(out, { 'mcp-session-id': 's', 'content-type': 'text/event-stream' });
});
