// The demo MCP server: tools that show which replica served them and that use server-to-client requests
// (sampling, elicitation), which only work when every request of a session reaches the same replica.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CreateMessageResultSchema, ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export interface DemoServerInfo {
  replica: string;
}

function text(value: unknown) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
}

export function buildDemoServer(info: DemoServerInfo): McpServer {
  const server = new McpServer({ name: 'mcp-gateway-demo', version: '1.0.0' }, { capabilities: { logging: {} } });

  server.registerTool('whoami', { description: 'Names the backend replica that serves this session.' }, async (extra) => {
    return text({ replica: info.replica, sessionId: extra.sessionId ?? null });
  });

  server.registerTool(
    'ask_model',
    { description: 'Asks the client\'s model a question (sampling) and returns its answer.', inputSchema: { prompt: z.string() } },
    async ({ prompt }, extra) => {
      // Sent as part of this request (on its SSE response stream), so the client's answer is a new POST
      // that only the replica holding the session can match to the pending request.
      const result = await extra.sendRequest(
        { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 } },
        CreateMessageResultSchema,
      );
      const answer = result.content.type === 'text' ? result.content.text : `[${result.content.type}]`;
      return text({ replica: info.replica, model: result.model, answer });
    },
  );

  server.registerTool(
    'ask_user',
    { description: 'Asks the user a question (elicitation) and returns the answer.', inputSchema: { question: z.string() } },
    async ({ question }, extra) => {
      const result = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: {
            mode: 'form',
            message: question,
            requestedSchema: { type: 'object', properties: { answer: { type: 'string', description: question } }, required: ['answer'] },
          },
        },
        ElicitResultSchema,
      );
      return text({ replica: info.replica, action: result.action, answer: result.content?.answer ?? null });
    },
  );

  server.registerTool(
    'announce',
    {
      description: 'Sends `count` log notifications on the session\'s standalone GET stream, `intervalMs` apart.',
      inputSchema: { message: z.string(), count: z.number().int().min(1).max(100).default(1), intervalMs: z.number().int().min(0).max(10_000).default(0) },
    },
    async ({ message, count, intervalMs }) => {
      void (async () => {
        for (let i = 1; i <= count; i++) {
          // No related request id: the transport sends it on the standalone (GET) stream.
          await server.server.notification({ method: 'notifications/message', params: { level: 'info', data: { message, i, replica: info.replica } } });
          if (intervalMs > 0 && i < count) await new Promise((r) => setTimeout(r, intervalMs));
        }
      })().catch(() => undefined);
      return text({ replica: info.replica, scheduled: count });
    },
  );

  server.registerTool('echo_headers', { description: 'Returns the HTTP headers this request reached the backend with.' }, async (extra) => {
    return text({ replica: info.replica, headers: extra.requestInfo?.headers ?? {} });
  });

  server.registerTool(
    'sleep',
    { description: 'Waits `ms` milliseconds, then answers.', inputSchema: { ms: z.number().int().min(0).max(600_000) } },
    async ({ ms }, extra) => {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      return text({ replica: info.replica, slept: ms });
    },
  );
  return server;
}
