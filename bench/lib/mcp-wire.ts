// MCP (Streamable HTTP, sessions era) at the wire level over undici, as fast as a Node load generator can be:
// one undici Pool per entry point, raw JSON-RPC strings, no SDK. Each call reports its status, latency, the
// replica that answered (fast backend: `x-bench-replica`; demo backend: `"replica":"…"` in the result) and,
// for failures, an error kind for the report.
import { Pool } from 'undici';

export const PROTOCOL = '2025-11-25';
const POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** One address clients send to: a gateway replica, a proxy, or (direct) a backend. */
export class Entry {
  readonly name: string;
  readonly url: URL;
  readonly pool: Pool;
  /** Set after a connection to it failed (a killed replica): clients stop using it, as a load balancer would. */
  dead = false;
  /** `Bearer …` sent with every `send()` (bench --auth); none by default. */
  readonly authorization: string | undefined;

  constructor(name: string, url: string, connections: number | null, authorization?: string) {
    this.name = name;
    this.url = new URL(url);
    this.authorization = authorization;
    this.pool = new Pool(this.url.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000, connect: { timeout: 5000 } });
  }

  get path(): string {
    return this.url.pathname;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

export interface WireResult {
  status: number;
  ms: number;
  /** Replica that answered, when the answer says. */
  replica: string | undefined;
  sessionId: string | undefined;
  body: string;
  /** Set when no HTTP answer arrived (connection refused/reset, timeout). */
  networkError: string | undefined;
}

let nextId = 1;

export function rpc(method: string, params: unknown, notification = false): string {
  return notification ? `{"jsonrpc":"2.0","method":"${method}","params":${JSON.stringify(params)}}` : `{"jsonrpc":"2.0","id":${nextId++},"method":"${method}","params":${JSON.stringify(params)}}`;
}

const REPLICA_IN_BODY = /"replica":"([^"\\]+)"/;

export function replicaOf(headers: Record<string, string | string[] | undefined>, body: string): string | undefined {
  const h = headers['x-bench-replica'];
  if (typeof h === 'string') return h;
  return REPLICA_IN_BODY.exec(body)?.[1];
}

export interface SendOptions {
  sid?: string | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
}

/** One request, body read to the end. Never throws: failures come back as `networkError`. */
export async function send(entry: Entry, method: 'POST' | 'DELETE', body: string | undefined, o: SendOptions = {}): Promise<WireResult> {
  const headers: Record<string, string> = method === 'POST' ? { ...POST_HEADERS } : {};
  if (entry.authorization !== undefined) headers.authorization = entry.authorization;
  if (o.sid !== undefined) {
    headers['mcp-session-id'] = o.sid;
    headers['mcp-protocol-version'] = PROTOCOL;
  }
  const started = performance.now();
  try {
    const res = await entry.pool.request({
      method,
      path: entry.path,
      headers,
      body: body ?? null,
      signal: o.signal,
      headersTimeout: o.timeoutMs ?? 30_000,
      bodyTimeout: o.timeoutMs ?? 30_000,
    });
    const text = await res.body.text();
    const raw = res.headers['mcp-session-id'];
    return {
      status: res.statusCode,
      ms: performance.now() - started,
      replica: replicaOf(res.headers, text),
      sessionId: typeof raw === 'string' ? raw : undefined,
      body: text,
      networkError: undefined,
    };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { status: 0, ms: performance.now() - started, replica: undefined, sessionId: undefined, body: '', networkError: e.code ?? e.name ?? 'error' };
  }
}

export const initializeBody = () => rpc('initialize', { protocolVersion: PROTOCOL, capabilities: { sampling: {}, elicitation: {} }, clientInfo: { name: 'mcp-bench', version: '1' } });
export const initializedBody = () => rpc('notifications/initialized', {}, true);
export const toolCallBody = (name: string, args: Record<string, unknown> = {}) => rpc('tools/call', { name, arguments: args });

/**
 * A tool call whose handler asks the client (sampling/createMessage, elicitation/create) on the response's
 * SSE stream: every server request is answered with a new POST through `answerVia()` (another entry point,
 * as a real client behind a load balancer would land), and the final result ends the call.
 */
export async function interactiveCall(
  entry: Entry,
  answerVia: () => Entry,
  sid: string,
  tool: string,
  args: Record<string, unknown>,
  signal: AbortSignal | undefined,
): Promise<WireResult & { answered: number; answerFailures: number }> {
  const started = performance.now();
  let answered = 0;
  let answerFailures = 0;
  const body = toolCallBody(tool, args);
  const callId = (JSON.parse(body) as { id: number }).id;
  try {
    const res = await entry.pool.request({
      method: 'POST',
      path: entry.path,
      headers: { ...POST_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': PROTOCOL },
      body,
      signal,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const ct = String(res.headers['content-type'] ?? '');
    if (!ct.startsWith('text/event-stream')) {
      const text = await res.body.text();
      return { status: res.statusCode, ms: performance.now() - started, replica: replicaOf(res.headers, text), sessionId: undefined, body: text, networkError: undefined, answered, answerFailures };
    }
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += (chunk as Buffer).toString('utf8');
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (!data) continue;
        const msg = JSON.parse(data) as { id?: unknown; method?: string; params?: { message?: string } };
        if (msg.method !== undefined && msg.id !== undefined) {
          const reply = await send(answerVia(), 'POST', JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: answerFor(msg.method, msg.params) }), { sid, signal });
          if (reply.status === 202) answered++;
          else answerFailures++;
        } else if (msg.id === callId) {
          res.body.destroy();
          return { status: res.statusCode, ms: performance.now() - started, replica: replicaOf({}, data), sessionId: undefined, body: data, networkError: undefined, answered, answerFailures };
        }
      }
    }
    return { status: res.statusCode, ms: performance.now() - started, replica: undefined, sessionId: undefined, body: buffer, networkError: 'STREAM_ENDED_EARLY', answered, answerFailures };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { status: 0, ms: performance.now() - started, replica: undefined, sessionId: undefined, body: '', networkError: e.code ?? e.name ?? 'error', answered, answerFailures };
  }
}

function answerFor(method: string, params: { message?: string } | undefined): unknown {
  if (method === 'sampling/createMessage') return { role: 'assistant', model: 'bench-model', content: { type: 'text', text: 'benchmark answer' } };
  if (method === 'elicitation/create') return { action: 'accept', content: { answer: `bench: ${params?.message ?? ''}` } };
  return {};
}

/** An idle GET stream held open; `close()` ends it. Resolves once the stream's headers arrived. */
export async function openStream(entry: Entry, sid: string): Promise<{ status: number; replica: string | undefined; close(): void; networkError?: string }> {
  const ac = new AbortController();
  try {
    const res = await entry.pool.request({
      method: 'GET',
      path: entry.path,
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': PROTOCOL },
      signal: ac.signal,
      headersTimeout: 30_000,
      bodyTimeout: 0,
    });
    const replica = replicaOf(res.headers, '');
    if (res.statusCode !== 200) {
      await res.body.text().catch(() => '');
      return { status: res.statusCode, replica, close: () => undefined };
    }
    res.body.on('data', () => undefined); // keep-alive comments: read and dropped
    res.body.on('error', () => undefined);
    return { status: 200, replica, close: () => ac.abort() };
  } catch (err) {
    return { status: 0, replica: undefined, close: () => undefined, networkError: (err as NodeJS.ErrnoException).code ?? 'error' };
  }
}
