// MCP clients for tests, built on the official SDK (1.x, sessions era), with sampling and elicitation
// handlers. A client may be given several gateway URLs: its requests then alternate between them, as they
// would behind a load balancer that spreads one client's requests over gateway replicas.
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';

export interface TestClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** Entry URL of each HTTP request this client made, in order. */
  entries: string[];
  /** Sampling and elicitation requests the client answered. */
  answered: { sampling: number; elicitation: number };
  notifications: LoggingMessageNotification['params'][];
  sessionId(): string;
  /** Calls a tool and returns its structured result (throws on a tool error). */
  call<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

export interface ClientOptions {
  name?: string;
  headers?: Record<string, string>;
  requestTimeoutMs?: number;
  /** The SDK's OAuth flow: on a 401 it follows resource_metadata, discovers the authorization server, gets a token. */
  authProvider?: OAuthClientProvider;
}

/** A fetch that sends each request to the next entry URL in turn, keeping path and query. */
export function rotatingFetch(entryUrls: string[] | (() => string[]), seen: string[]): typeof fetch {
  let i = 0;
  /** Every gateway origin ever listed: a replica that died since is still the gateway, not a third party. */
  const gatewayOrigins = new Set<string>();
  return (input, init) => {
    const urls = typeof entryUrls === 'function' ? entryUrls() : entryUrls;
    for (const u of urls) gatewayOrigins.add(new URL(u).origin);
    const original = new URL(input instanceof Request ? input.url : input.toString());
    // Only requests for the gateway rotate; others (an authorization server, for the SDK's OAuth flow) do not.
    if (!gatewayOrigins.has(original.origin)) return fetch(input, init);
    const entry = new URL(urls[i++ % urls.length] as string);
    original.protocol = entry.protocol;
    original.host = entry.host;
    seen.push(entry.origin);
    return fetch(original, init);
  };
}

/** `entryUrls` may be a function, read before every request (e.g. the gateway replicas still alive). */
export async function connectClient(entryUrls: string[] | (() => string[]), opts: ClientOptions = {}): Promise<TestClient> {
  const entries: string[] = [];
  const answered = { sampling: 0, elicitation: 0 };
  const notifications: LoggingMessageNotification['params'][] = [];
  const client = new Client(
    { name: opts.name ?? 'gateway-test-client', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: { form: {} } } },
  );
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
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    notifications.push(n.params);
  });
  const first = (typeof entryUrls === 'function' ? entryUrls() : entryUrls)[0] as string;
  const transport = new StreamableHTTPClientTransport(new URL(first), {
    fetch: rotatingFetch(entryUrls, entries),
    ...(opts.headers ? { requestInit: { headers: opts.headers } } : {}),
    ...(opts.authProvider ? { authProvider: opts.authProvider } : {}),
  });
  await client.connect(transport);
  return {
    client,
    transport,
    entries,
    answered,
    notifications,
    sessionId: () => transport.sessionId as string,
    async call<T>(name: string, args: Record<string, unknown> = {}) {
      const result = await client.callTool({ name, arguments: args }, undefined, { timeout: opts.requestTimeoutMs ?? 30_000 });
      if (result.isError) throw new Error(`tool ${name} failed: ${JSON.stringify(result.content)}`);
      return result.structuredContent as T;
    },
    async close() {
      await client.close().catch(() => undefined);
    },
  };
}
