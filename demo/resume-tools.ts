// Demo tools for session resume (issue 16) that make replay safety observable from outside the process:
//  - `increment` has a side effect and declares no safe hints: a gateway must never run it twice. Every run
//    is appended to a side-effects file (--side-effects-file) so that a test can count runs even of a
//    replica it SIGKILLed; it runs first and then waits `ms`, so a kill during the wait leaves a call that
//    did run but was never answered.
//  - `peek` is declared read-only (readOnlyHint) and waits `ms` before answering: a call cut by a kill may
//    be sent again.
//  - `put` is declared idempotent (idempotentHint).
//  - resources/subscribe on `demo://counter`, and `touch` which notifies every subscriber in this process
//    (notifications/resources/updated), to see a subscription carried over to a new upstream session.
import { appendFileSync, readFileSync } from 'node:fs';
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod/v4';

export interface ResumeToolsInfo {
  replica: string;
  /** Where runs of `increment` are appended (one JSON line each); none when undefined. */
  sideEffectsFile: string | undefined;
  /** Servers (one per session) subscribed to each resource URI in this process. */
  subscribers: Map<string, Set<McpServer>>;
}

const COUNTER_URI = 'demo://counter';
const UriParams = z.looseObject({ uri: z.string() });
const AnyResult = z.looseObject({});

function structured(value: Record<string, unknown>) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value) }], structuredContent: value };
}

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

function runsOf(file: string | undefined, key: string): number {
  if (!file) return 0;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  return text.split('\n').filter((l) => l && (JSON.parse(l) as { key: string }).key === key).length;
}

export function registerResumeTools(server: McpServer, info: ResumeToolsInfo): void {
  const { replica, sideEffectsFile, subscribers } = info;
  server.registerTool(
    'increment',
    {
      description: 'Side effect: counts one run of `key` (in the side-effects file), then waits `ms` before answering.',
      inputSchema: z.object({ key: z.string(), ms: z.number().int().min(0).max(60_000).default(0) }),
      annotations: { readOnlyHint: false, idempotentHint: false, destructiveHint: false },
    },
    async ({ key, ms }, ctx) => {
      if (sideEffectsFile) appendFileSync(sideEffectsFile, `${JSON.stringify({ key, replica })}\n`);
      await wait(ms, ctx.mcpReq.signal);
      return structured({ replica, key, runs: runsOf(sideEffectsFile, key) });
    },
  );
  server.registerTool(
    'peek',
    {
      description: 'Read-only: how many times `key` was incremented, after waiting `ms`.',
      inputSchema: z.object({ key: z.string(), ms: z.number().int().min(0).max(60_000).default(0) }),
      annotations: { readOnlyHint: true },
    },
    async ({ key, ms }, ctx) => {
      await wait(ms, ctx.mcpReq.signal);
      return structured({ replica, key, runs: runsOf(sideEffectsFile, key) });
    },
  );
  server.registerTool(
    'put',
    {
      description: 'Idempotent: answers with `value` after waiting `ms` (doing it twice is doing it once).',
      inputSchema: z.object({ value: z.string(), ms: z.number().int().min(0).max(60_000).default(0) }),
      annotations: { readOnlyHint: false, idempotentHint: true },
    },
    async ({ value, ms }, ctx) => {
      await wait(ms, ctx.mcpReq.signal);
      return structured({ replica, value });
    },
  );

  server.registerResource('counter', COUNTER_URI, { description: 'A resource whose updates subscribers hear of.', mimeType: 'application/json' }, async () => ({
    contents: [{ uri: COUNTER_URI, mimeType: 'application/json', text: JSON.stringify({ replica }) }],
  }));
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  server.server.setRequestHandler('resources/subscribe', { params: UriParams, result: AnyResult }, async ({ uri }) => {
    let set = subscribers.get(uri);
    if (!set) subscribers.set(uri, (set = new Set()));
    set.add(server);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', { params: UriParams, result: AnyResult }, async ({ uri }) => {
    subscribers.get(uri)?.delete(server);
    return {};
  });
  server.registerTool(
    'touch',
    { description: 'Tells every session of this replica subscribed to `uri` that it changed.', inputSchema: z.object({ uri: z.string().default(COUNTER_URI) }) },
    async ({ uri }) => {
      const targets = [...(subscribers.get(uri) ?? [])];
      await Promise.allSettled(targets.map((s) => s.server.sendResourceUpdated({ uri })));
      return structured({ replica, notified: targets.length });
    },
  );
}
