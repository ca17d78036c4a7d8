// MCP clients of the other eras, built on the official SDKs, with the same sampling and elicitation handlers
// as the session-era TestClient (mcp-client.ts):
//  - `connectModernClient`: SDK v2 (@modelcontextprotocol/client), pinned to 2026-07-28 (stateless; the
//    server's questions arrive as input_required and the client retries the call with its answers) or left
//    on the 2025 handshake (`era: 'legacy'`);
//  - `connectLegacySseClient`: SDK 1.x SSEClientTransport (2024-11-05 HTTP+SSE).
// Each records the HTTP exchanges it made, so that tests can check the wire (entries, session headers).
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export interface WireRecord {
  entry: string;
  method: string;
  mcpMethod: string | null;
  status: number;
  sessionHeader: string | null;
}

export interface EraClient {
  /** The protocol version the connection negotiated. */
  protocolVersion: string | undefined;
  wire: WireRecord[];
  answered: { sampling: number; elicitation: number };
  call<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A fetch that sends each request to the next entry URL (keeping path and query) and records it. `order`
 * lists entry indexes to cycle through (default: each entry in turn).
 */
export function recordingFetch(entryUrls: string[] | (() => string[]), wire: WireRecord[], order?: number[]): typeof fetch {
  let i = 0;
  return async (input, init) => {
    const urls = typeof entryUrls === 'function' ? entryUrls() : entryUrls;
    const target = new URL(input instanceof Request ? input.url : input.toString());
    const n = i++;
    const entry = new URL(urls[(order ? (order[n % order.length] as number) : n) % urls.length] as string);
    target.protocol = entry.protocol;
    target.host = entry.host;
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const res = await fetch(target, init);
    wire.push({ entry: entry.origin, method: init?.method ?? 'GET', mcpMethod: headers.get('mcp-method'), status: res.status, sessionHeader: res.headers.get('mcp-session-id') });
    return res;
  };
}

function structuredOf<T>(name: string, result: { isError?: boolean; content?: unknown; structuredContent?: unknown }): T {
  if (result.isError) throw new Error(`tool ${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

export async function connectModernClient(
  entryUrls: string[] | (() => string[]),
  opts: { era?: 'modern' | 'legacy'; name?: string; order?: number[] } = {},
): Promise<EraClient> {
  const wire: WireRecord[] = [];
  const answered = { sampling: 0, elicitation: 0 };
  const client = new V2Client(
    { name: opts.name ?? 'gateway-test-v2-client', version: '1.0.0' },
    {
      capabilities: { sampling: {}, elicitation: { form: {} } },
      ...(opts.era === 'legacy' ? {} : { versionNegotiation: { mode: { pin: '2026-07-28' } } }),
    },
  );
  client.setRequestHandler('sampling/createMessage', async (req) => {
    answered.sampling++;
    const first = req.params.messages[0]?.content;
    const prompt = first && !Array.isArray(first) && first.type === 'text' ? first.text : '';
    return { role: 'assistant', model: 'test-model', content: { type: 'text', text: `model says: ${prompt}` } };
  });
  client.setRequestHandler('elicitation/create', async (req) => {
    answered.elicitation++;
    return { action: 'accept', content: { answer: `user says: ${req.params.message}` } };
  });
  const first = (typeof entryUrls === 'function' ? entryUrls() : entryUrls)[0] as string;
  await client.connect(new V2Transport(new URL(first), { fetch: recordingFetch(entryUrls, wire, opts.order) }));
  const era = client.getProtocolEra();
  if (era !== (opts.era ?? 'modern')) throw new Error(`connected on the ${era} era, not ${opts.era ?? 'modern'}`);
  return {
    protocolVersion: client.getNegotiatedProtocolVersion(),
    wire,
    answered,
    call: async (name, args = {}) => structuredOf(name, await client.callTool({ name, arguments: args })),
    close: async () => void (await client.close().catch(() => undefined)),
  };
}

/**
 * A 2024-11-05 client: the stream opens on `streamEntry`, its messages rotate over `postEntries` (the
 * advertised endpoint is relative, so any gateway replica serves it).
 */
export async function connectLegacySseClient(streamEntry: string, postEntries: string[]): Promise<EraClient> {
  const wire: WireRecord[] = [];
  const answered = { sampling: 0, elicitation: 0 };
  const client = new Client({ name: 'gateway-test-sse-client', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: { form: {} } } });
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    answered.sampling++;
    const first = req.params.messages[0]?.content;
    const prompt = first && !Array.isArray(first) && first.type === 'text' ? first.text : '';
    return { role: 'assistant', model: 'test-model', content: { type: 'text', text: `model says: ${prompt}` } };
  });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    answered.elicitation++;
    return { action: 'accept', content: { answer: `user says: ${req.params.message}` } };
  });
  const transport = new SSEClientTransport(new URL(streamEntry), {
    eventSourceInit: { fetch: recordingFetch([streamEntry], wire) },
    fetch: recordingFetch(postEntries, wire),
  });
  await client.connect(transport);
  return {
    protocolVersion: undefined, // the 1.x client does not say; the transport is 2024-11-05 either way
    wire,
    answered,
    call: async (name, args = {}) => structuredOf(name, (await client.callTool({ name, arguments: args })) as { isError?: boolean; structuredContent?: unknown }),
    close: async () => void (await client.close().catch(() => undefined)),
  };
}
