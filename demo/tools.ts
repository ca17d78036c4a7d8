// The demo MCP server (official SDK v2): tools that show which replica served them and that need input from
// the client mid-call (sampling, elicitation). They are written once, in the 2026-07-28 style (return
// `inputRequired(...)`), and serve both eras:
//  - a 2026-07-28 client gets an InputRequiredResult and retries the call with its answers (a new request that
//    may land on any replica: the `requestState` it echoes is HMAC-sealed with a key all replicas share);
//  - on a 2025-era session the SDK's legacy shim sends real sampling/elicitation requests over the session's
//    SSE stream instead, so the client's answer must come back to the same replica (the gateway's job).
import {
  inputRequired,
  inputResponse,
  McpServer,
  type CallToolResult,
  type InputRequiredResult,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import * as z from 'zod/v4';
import { registerResumeTools, type ResumeToolsInfo } from './resume-tools.ts';
import { declaresTasks, registerTaskMethods, type TaskRegistry } from './tasks.ts';

export interface DemoServerInfo {
  replica: string;
  era: 'legacy' | 'modern';
  /** Seals the `requestState` of multi-round-trip calls; share its key across replicas. */
  stateCodec: RequestStateCodec<RoundState>;
  tasks: TaskRegistry;
  /** Work in progress in this process (the backend's /healthz shows it). */
  activity: { sleeping: number };
  /** Side-effect counter and resource subscriptions (resume-tools.ts); absent: those tools are not offered. */
  resume?: Omit<ResumeToolsInfo, 'replica'>;
}

/** What a first round tells the next one: which replica asked. */
export interface RoundState {
  askedBy: string;
}

function structured(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

export function buildDemoServer(info: DemoServerInfo): McpServer {
  const { replica, stateCodec } = info;
  const server = new McpServer(
    { name: 'mcp-gateway-demo', version: '2.0.0' },
    { capabilities: { logging: {} }, requestState: { verify: stateCodec.verify } },
  );
  // First round: ask, and seal who asked; the retry (any replica) verifies the seal and reports both.
  const askedBy = (ctx: ServerContext) => ctx.mcpReq.requestState<RoundState>()?.askedBy ?? replica;

  server.registerTool('whoami', { description: 'Names the backend replica that serves this request.' }, async (ctx) =>
    structured({ replica, sessionId: ctx.sessionId ?? null, era: info.era }),
  );

  server.registerTool(
    'ask_model',
    { description: "Asks the client's model a question (sampling) and returns its answer.", inputSchema: z.object({ prompt: z.string() }) },
    async ({ prompt }, ctx): Promise<CallToolResult | InputRequiredResult> => {
      const view = inputResponse(ctx.mcpReq.inputResponses, 'model');
      if (view.kind !== 'sampling') {
        return inputRequired({
          inputRequests: { model: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 }) },
          requestState: await stateCodec.mint({ askedBy: replica }),
        });
      }
      const content = view.result.content;
      const answer = !Array.isArray(content) && content.type === 'text' ? content.text : '[non-text answer]';
      return structured({ replica, model: view.result.model, answer, askedBy: askedBy(ctx) });
    },
  );

  server.registerTool(
    'ask_user',
    { description: 'Asks the user a question (elicitation) and returns the answer.', inputSchema: z.object({ question: z.string() }) },
    async ({ question }, ctx): Promise<CallToolResult | InputRequiredResult> => {
      const view = inputResponse(ctx.mcpReq.inputResponses, 'answer');
      if (view.kind !== 'elicit') {
        const requestedSchema = { type: 'object' as const, properties: { answer: { type: 'string' as const, description: question } }, required: ['answer'] };
        return inputRequired({
          inputRequests: { answer: inputRequired.elicit({ message: question, requestedSchema }) },
          requestState: await stateCodec.mint({ askedBy: replica }),
        });
      }
      const answer = typeof view.content?.answer === 'string' ? view.content.answer : null;
      return structured({ replica, action: view.action, answer, askedBy: askedBy(ctx) });
    },
  );

  server.registerTool(
    'announce',
    {
      description: "Sends `count` log notifications, `intervalMs` apart: on the session's standalone GET stream (2025 era) or on this call's response stream (2026-07-28).",
      inputSchema: z.object({ message: z.string(), count: z.number().int().min(1).max(100).default(1), intervalMs: z.number().int().min(0).max(10_000).default(0) }),
    },
    async ({ message, count, intervalMs }, ctx) => {
      const send = async (i: number) => {
        const params = { level: 'info' as const, data: { message, i, replica } };
        // 2025 era: no related request id, so the transport sends it on the standalone (GET) stream.
        if (info.era === 'legacy') await server.server.notification({ method: 'notifications/message', params });
        else await ctx.mcpReq.notify({ method: 'notifications/message', params });
      };
      const all = async () => {
        for (let i = 1; i <= count; i++) {
          await send(i);
          if (intervalMs > 0 && i < count) await sleep(intervalMs, ctx.mcpReq.signal);
        }
      };
      if (info.era === 'legacy') void all().catch(() => undefined);
      else await all();
      return structured({ replica, scheduled: count });
    },
  );

  server.registerTool('echo_headers', { description: 'Returns the HTTP headers this request reached the backend with.' }, async (ctx) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of ctx.http?.req?.headers ?? []) headers[k] = v;
    return structured({ replica, headers });
  });

  server.registerTool(
    'sleep',
    { description: 'Waits `ms` milliseconds, then answers.', inputSchema: z.object({ ms: z.number().int().min(0).max(600_000) }) },
    async ({ ms }, ctx) => {
      info.activity.sleeping++;
      try {
        await sleep(ms, ctx.mcpReq.signal);
      } finally {
        info.activity.sleeping--;
      }
      return structured({ replica, slept: ms });
    },
  );

  server.registerTool(
    'close_stream',
    {
      description: "2025-11-25 polling: closes this call's SSE stream at once (the client reconnects with Last-Event-ID), answers after `ms`.",
      inputSchema: z.object({ ms: z.number().int().min(0).max(60_000).default(300) }),
    },
    async ({ ms }, ctx) => {
      ctx.http?.closeSSE?.();
      await sleep(ms, ctx.mcpReq.signal);
      return structured({ replica, closed: ctx.http?.closeSSE !== undefined });
    },
  );

  registerTaskMethods(server, info.tasks);
  if (info.resume) registerResumeTools(server, { replica, ...info.resume });
  server.registerTool(
    'slow_task',
    {
      description: 'Works for `ms` milliseconds. A 2026-07-28 request that declares the tasks extension gets a task to poll instead of waiting.',
      inputSchema: z.object({ ms: z.number().int().min(0).max(600_000) }),
    },
    async ({ ms }, ctx) => {
      const work = async (signal: AbortSignal) => {
        await sleep(ms, signal);
        return structured({ replica, slept: ms });
      };
      if (info.era === 'modern' && declaresTasks(ctx)) return info.tasks.create((io) => work(io.signal)) as unknown as CallToolResult;
      return work(ctx.mcpReq.signal);
    },
  );
  return server;
}
