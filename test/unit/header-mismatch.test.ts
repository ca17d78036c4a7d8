// MCP 2026-07-28 Streamable HTTP, "Server Validation": where the gateway has read the body anyway, Mcp-Method
// and Mcp-Name that disagree with it, or a repeated one, are refused with 400 and HeaderMismatch (-32020).
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { GatewayError, jsonRpcErrorBody } from '../../gateway/src/errors.ts';
import { checkHeadersAgainstBody, checkRequest } from '../../gateway/src/http/edge-checks.ts';
import { encodeHeaderValue } from '../../gateway/src/mcp/header-values.ts';

const V = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': V };

function check(headers: Record<string, string | string[]>, body: unknown, parse = true) {
  const raw: string[] = [];
  const joined: IncomingHttpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V };
  for (const [k, v] of Object.entries(headers)) {
    for (const one of [v].flat()) raw.push(k, one);
    joined[k] = Array.isArray(v) ? v.join(', ') : v; // as Node presents a repeated custom header
  }
  const req = checkRequest('mcp', 'POST', joined, Buffer.from(JSON.stringify(body)), { path: '/mcp', query: '', rawHeaders: raw });
  if (parse) req.peek();
  checkHeadersAgainstBody(req, joined);
  return req;
}

function mismatch(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, 'HEADER_MISMATCH');
    assert.equal(err.status, 400);
    assert.equal(err.rpcCode, -32020);
    return err;
  }
  assert.fail('expected a HeaderMismatch refusal');
}

const call = (name: string, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {}, _meta: meta } });

test('headers that match the body pass untouched (plain, base64 sentinel, uri and taskId sources)', () => {
  const req = check({ 'mcp-method': 'tools/call', 'mcp-name': 'get_weather' }, call('get_weather'));
  assert.deepEqual([req.mcpMethod, req.mcpName], ['tools/call', 'get_weather']);
  check({ 'mcp-method': 'tools/call', 'mcp-name': encodeHeaderValue('Grüße') }, call('Grüße'));
  check({ 'mcp-method': 'resources/read', 'mcp-name': 'file:///a b' }, { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'file:///a b', _meta: meta } });
  check({ 'mcp-method': 'tasks/get', 'mcp-name': 't-1' }, { jsonrpc: '2.0', id: 3, method: 'tasks/get', params: { taskId: 't-1', _meta: meta } });
  check({ 'mcp-method': 'tools/list' }, { jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: meta } });
});

test('a method or name that disagrees with the body is HeaderMismatch, with the spec-shaped message and the id', () => {
  const err = mismatch(() => check({ 'mcp-method': 'tools/call', 'mcp-name': 'foo' }, call('bar', 7)));
  assert.equal(err.message, "Header mismatch: Mcp-Name header value 'foo' does not match body value 'bar'");
  assert.deepEqual(JSON.parse(jsonRpcErrorBody(err, err.rpcId)), {
    jsonrpc: '2.0',
    id: 7,
    error: { code: -32020, message: err.message, data: { reason: 'header_mismatch' } },
  });
  mismatch(() => check({ 'mcp-method': 'tools/list' }, call('x')));
  mismatch(() => check({ 'mcp-method': 'tools/call', 'mcp-name': 'x' }, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { arguments: {} } }));
  mismatch(() => check({ 'mcp-method': 'tools/call', 'mcp-name': '=?base64?not base64?=' }, call('x')));
  mismatch(() => check({ 'mcp-method': 'Tools/Call', 'mcp-name': 'x' }, call('x'))); // values are case-sensitive
});

test('a repeated Mcp-Method or Mcp-Name is refused before anything routes by it, body read or not', () => {
  const err = mismatch(() => check({ 'mcp-method': ['tools/call', 'tools/call'], 'mcp-name': 'x' }, call('x'), false));
  assert.match(err.message, /Mcp-Method header is repeated/);
  mismatch(() => check({ 'mcp-method': 'tools/call', 'mcp-name': ['x', 'y'] }, call('x'), false));
});

test('the body is never parsed for this check alone: unread, a disagreement is the backend\'s to refuse', () => {
  const req = check({ 'mcp-method': 'tools/list' }, call('x'), false);
  assert.equal(req.peeked, undefined);
});
