// MCP over plain fetch, for tests that must see the wire (status codes, headers, SSE comments) rather than
// what an SDK client makes of it.
import { request as httpRequest } from 'node:http';

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } as const;

/** A JSON-RPC request; `id: null` makes it a notification. */
export function rpc(method: string, params: Record<string, unknown> = {}, id: number | string | null = 1): string {
  return JSON.stringify(id === null ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id, method, params });
}

export async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body });
}

/**
 * A POST through node:http, for headers fetch will not send (a `Connection` list naming other fields, RFC 9110
 * §7.6.1); the answer comes back as a Response. Times out after `timeoutMs`.
 */
export function rawHttpPost(url: string, body: string, headers: Record<string, string>, timeoutMs = 30_000): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: h }));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** initialize + notifications/initialized; returns the session id. Opens no GET stream. */
export async function rawSession(url: string, headers: Record<string, string> = {}): Promise<string> {
  const init = await post(
    url,
    // A client that can answer the server's questions, as the SDK clients in these tests can.
    rpc('initialize', { protocolVersion: '2025-11-25', capabilities: { sampling: {}, elicitation: { form: {} } }, clientInfo: { name: 'raw', version: '1' } }),
    headers,
  );
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}: ${await init.text()}`);
  const sid = init.headers.get('mcp-session-id');
  if (!sid) throw new Error('initialize answered without Mcp-Session-Id');
  await init.text();
  const ack = await post(url, rpc('notifications/initialized', {}, null), { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
  if (ack.status !== 202) throw new Error(`notifications/initialized answered ${ack.status}`);
  return sid;
}

/** The JSON-RPC messages of a response, whether it came as JSON or as an SSE stream. */
export async function messagesOf(res: Response): Promise<Array<Record<string, unknown>>> {
  const text = await res.text();
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) return [JSON.parse(text)];
  const out: Array<Record<string, unknown>> = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (data) out.push(JSON.parse(data));
  }
  return out;
}

/**
 * What a request of session `sid` gets: the HTTP status, and the JSON-RPC error code when the answer is a
 * JSON error (a live session answers with an SSE stream: no code).
 */
export async function sessionStatus(url: string, sid: string): Promise<{ status: number; code: number | undefined }> {
  const res = await post(url, rpc('tools/list', {}, 11), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
  const text = await res.text();
  try {
    return { status: res.status, code: (JSON.parse(text) as { error?: { code: number } }).error?.code };
  } catch {
    return { status: res.status, code: undefined };
  }
}

/** Calls a tool on a raw session and returns its structured result. */
export async function rawCall(url: string, sid: string, name: string, args: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await post(url, rpc('tools/call', { name, arguments: args }, 7), { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
  const msgs = await messagesOf(res);
  const reply = msgs.find((m) => m.id === 7) as { result?: { structuredContent?: Record<string, unknown> } } | undefined;
  return { status: res.status, result: reply?.result?.structuredContent, messages: msgs };
}

/**
 * Calls a tool whose handler asks the client something (sampling, elicitation): reads the SSE answer as it
 * streams, answers each server request with a POST of its own (the round trip the gateway must route to the
 * same replica), and returns the final result.
 */
export async function rawCallAnswering(
  url: string,
  sid: string,
  name: string,
  args: Record<string, unknown>,
  answer: (request: { method: string; params: Record<string, unknown> }) => Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ result: Record<string, unknown> | undefined; answered: number }> {
  const session = { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
  const res = await post(url, rpc('tools/call', { name, arguments: args }, 70), session);
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const [msg] = await messagesOf(res);
    return { result: (msg as { result?: { structuredContent?: Record<string, unknown> } }).result?.structuredContent, answered: 0 };
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let answered = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('stream ended before the tool result');
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (!data) continue;
      const msg = JSON.parse(data) as { id?: unknown; method?: string; params?: Record<string, unknown>; result?: { structuredContent?: Record<string, unknown> } };
      if (msg.method && msg.id !== undefined) {
        const reply = await post(url, JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: answer({ method: msg.method, params: msg.params ?? {} }) }), session);
        if (reply.status !== 202) throw new Error(`answer to ${msg.method} got ${reply.status}`);
        answered++;
      } else if (msg.id === 70) {
        await reader.cancel();
        return { result: msg.result?.structuredContent, answered };
      }
    }
  }
}

/** 2026-07-28: every request carries its version, client info and capabilities in `_meta`. */
export const MODERN = '2026-07-28';
export function modernMeta(capabilities: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': capabilities,
  };
}
export const TASKS_CAPABILITY = { extensions: { 'io.modelcontextprotocol/tasks': {} } };

/**
 * A 2026-07-28 request as a conforming client sends it: MCP-Protocol-Version, Mcp-Method and (for named
 * methods) Mcp-Name mirror the body (Streamable HTTP, "Request Metadata"). `name` overrides the Mcp-Name value.
 */
export async function modernPost(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  opts: { id?: number | string; name?: string; headers?: Record<string, string>; capabilities?: Record<string, unknown> } = {},
): Promise<Response> {
  const name = opts.name ?? (params.name ?? params.uri ?? params.taskId) as string | undefined;
  const headers: Record<string, string> = { 'mcp-protocol-version': MODERN, 'mcp-method': method, ...(name !== undefined ? { 'mcp-name': name } : {}), ...opts.headers };
  const body = JSON.stringify({ jsonrpc: '2.0', id: opts.id ?? 1, method, params: { ...params, _meta: modernMeta(opts.capabilities) } });
  return post(url, body, headers);
}
