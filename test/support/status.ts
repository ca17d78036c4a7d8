// The status page's tests: a known mix of traffic through one gateway, and the status JSON types they read.
import { messagesOf, modernPost, post, rawCall, rawSession, rpc, TASKS_CAPABILITY } from './raw-mcp.ts';

export interface MixResult {
  /** Session id -> the demo replica name that serves it. */
  sessions: Map<string, string>;
  /** A task id the gateway bound (2026-07-28 Tasks extension). */
  taskId: string;
}

/**
 * Six 2025-era sessions (least-sessions placement puts two on each of three backends), two tool calls each,
 * two stateless 2026-07-28 calls, one task, and one request naming a session nobody knows (404).
 */
export async function trafficMix(entry: string): Promise<MixResult> {
  const sessions = new Map<string, string>();
  for (let i = 0; i < 6; i++) {
    const sid = await rawSession(entry);
    const first = await rawCall(entry, sid, 'whoami');
    const second = await rawCall(entry, sid, 'whoami');
    if (first.status !== 200 || second.status !== 200) throw new Error(`whoami answered ${first.status}/${second.status}`);
    sessions.set(sid, first.result?.replica as string);
  }
  for (let i = 0; i < 2; i++) {
    const res = await modernPost(entry, 'tools/call', { name: 'whoami', arguments: {} });
    if (res.status !== 200) throw new Error(`stateless whoami answered ${res.status}`);
    await res.text();
  }
  const created = await modernPost(entry, 'tools/call', { name: 'slow_task', arguments: { ms: 200 } }, { capabilities: TASKS_CAPABILITY });
  const [msg] = (await messagesOf(created)) as Array<{ result?: { taskId?: string } }>;
  const taskId = msg?.result?.taskId;
  if (!taskId) throw new Error(`slow_task created no task: ${JSON.stringify(msg)}`);
  const unknown = await post(entry, rpc('tools/list', {}, 3), { 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': '2025-11-25' });
  if (unknown.status !== 404) throw new Error(`an unknown session answered ${unknown.status}`);
  await unknown.text();
  return { sessions, taskId };
}

export interface StatusBackend {
  id: string;
  state: string;
  stateCause: string;
  stateSince: number | null;
  sessions: number;
  lastMinute: { requests: number; errors: number; requestsPerSecond: number; p50Ms: number | null; p99Ms: number | null };
}

export interface StatusJson {
  replica: { id: string; version: string; phase: string };
  replicas: Array<{ id: string; self: boolean; uptimeSeconds: number; version: string }>;
  store: { kind: string; reachable: boolean; degraded: boolean; writeBackQueue: number; lastError: unknown };
  discovery: { mode: string; synced: boolean; lagBoundMs: number };
  backends: StatusBackend[];
  totals: {
    sessionsBound: number;
    streamsOpen: number;
    eras: Record<'sessions' | 'stateless' | 'legacy-sse', { requests: number; newSessionsPerMinute: number }>;
    resumes: { total: number; lastMinute: number };
    limitRejections: { total: number; lastMinute: number };
    authFailures: { total: number; lastMinute: number };
  };
}
