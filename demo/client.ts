// `npm run demo:client`: MCP clients of one era through the gateway (official SDK v2 client), showing what the
// gateway makes possible for each:
//   --era 2025  sessions: every call of a session, including the sampling and elicitation requests the server
//               sends back over it, is served by the one replica holding the session (default)
//   --era 2026  2026-07-28, stateless: calls spread over the replicas; the server's questions come back as
//               input_required and the retry may be answered by another replica; a task is polled where it lives
//   --era sse   the 2024-11-05 HTTP+SSE transport: the stream and its messages stay on one replica
//   npm run demo:client -- [--era 2025|2026|sse] [--url http://127.0.0.1:8080/mcp] [--sessions 3]
import { parseArgs } from 'node:util';
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.MCP_URL ?? 'http://127.0.0.1:8080/mcp' },
    era: { type: 'string', default: '2025' },
    sessions: { type: 'string', default: '3' },
  },
});
const url = new URL(values.url);
const runs = Math.max(1, Number(values.sessions));
const era = values.era;
if (!['2025', '2026', 'sse'].includes(era)) {
  process.stderr.write(`--era must be 2025, 2026 or sse, got '${era}'\n`);
  process.exit(2);
}

type ToolResult = { replica: string; askedBy?: string; [k: string]: unknown };

async function connect(n: number, say: (s: string) => void): Promise<Client> {
  const client = new Client(
    { name: `demo-client-${n}`, version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: { form: {} } }, ...(era === '2026' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {}) },
  );
  client.setRequestHandler('sampling/createMessage', async (req) => {
    const first = req.params.messages[0]?.content;
    const prompt = first && !Array.isArray(first) && first.type === 'text' ? first.text : '';
    say(`  <- the server asks the client's model: "${prompt}" (answering as the "model")`);
    return { role: 'assistant', model: 'demo-model', content: { type: 'text', text: `42 is the answer to "${prompt}"` } };
  });
  client.setRequestHandler('elicitation/create', async (req) => {
    say(`  <- the server asks the user: "${req.params.message}" (answering as the "user")`);
    return { action: 'accept', content: { answer: 'blue' } };
  });
  client.setNotificationHandler('notifications/message', (note) => say(`  <- notification: ${JSON.stringify(note.params.data)}`));
  const transport = era === 'sse' ? new SSEClientTransport(new URL('/sse', url)) : new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  return client;
}

async function run(n: number): Promise<Set<string>> {
  const say = (s: string) => process.stdout.write(`[${era === '2026' ? 'client' : 'session'} ${n}] ${s}\n`);
  const client = await connect(n, say);
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
    return r.structuredContent as ToolResult;
  };
  const replicas = new Set<string>();
  const who = await call('whoami');
  replicas.add(who.replica);
  say(`connected (${client.getProtocolEra()} era${who.sessionId ? `, session ${String(who.sessionId).slice(0, 8)}…` : ', no session'}), served by ${who.replica}`);
  const sampled = await call('ask_model', { prompt: 'What is six times seven?' });
  replicas.add(sampled.replica);
  say(`ask_model (sampling): asked by ${sampled.askedBy}, answered by ${sampled.replica}: ${sampled.answer}`);
  const elicited = await call('ask_user', { question: 'Favourite colour?' });
  replicas.add(elicited.replica);
  say(`ask_user (elicitation): asked by ${elicited.askedBy}, answered by ${elicited.replica}: ${elicited.action} "${elicited.answer}"`);
  if (era !== 'sse') await call('announce', { message: 'hello from the server', count: 1 });
  await new Promise((r) => setTimeout(r, 300));
  await client.close();
  if (era !== '2026' && replicas.size !== 1) throw new Error(`session ${n} was served by several replicas: ${[...replicas].join(', ')}`);
  return replicas;
}

/** 2026-07-28 Tasks extension, on the wire (the SDK client does not speak it yet): create, then poll. */
async function taskDemo(): Promise<void> {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'demo-client', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } },
  };
  const send = async (method: string, name: string, params: Record<string, unknown>) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, 'mcp-name': name },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } }),
    });
    return ((await res.json()) as { result: Record<string, unknown> }).result;
  };
  const created = await send('tools/call', 'slow_task', { name: 'slow_task', arguments: { ms: 800 } });
  const taskId = created.taskId as string;
  process.stdout.write(`[task] slow_task answered with a task (${taskId.slice(0, 8)}…); polling it through the gateway\n`);
  for (;;) {
    const task = await send('tasks/get', taskId, { taskId });
    if (task.status === 'completed') {
      const result = (task.result as { structuredContent: ToolResult }).structuredContent;
      process.stdout.write(`[task] completed on ${result.replica}, the replica that created it (every poll went there)\n`);
      return;
    }
    await new Promise((r) => setTimeout(r, Number(task.pollIntervalMs ?? 200)));
  }
}

try {
  const used = new Set<string>();
  for (let i = 1; i <= runs; i++) for (const r of await run(i)) used.add(r);
  if (era === '2026') await taskDemo();
  const what = era === '2026' ? `${runs} stateless client(s); calls spread over` : `${runs} session(s), each served end to end by one replica; replicas used:`;
  process.stdout.write(`\nOK (${era === 'sse' ? 'HTTP+SSE' : era} era): ${what} ${[...used].sort().join(', ')}\n`);
} catch (err) {
  process.stderr.write(`demo client failed: ${(err as Error).message}\nIs the demo running (npm start)?\n`);
  process.exit(1);
}
