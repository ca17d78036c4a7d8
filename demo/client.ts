// `npm run demo:client`: runs MCP sessions through the gateway and shows what the gateway makes possible:
// every call of a session, including the sampling and elicitation round trips the server starts, is served
// by the one replica that holds the session; several sessions spread over the replicas.
//   npm run demo:client -- [--url http://127.0.0.1:8080/mcp] [--sessions 3]
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.MCP_URL ?? 'http://127.0.0.1:8080/mcp' },
    sessions: { type: 'string', default: '3' },
  },
});
const url = new URL(values.url);
const sessions = Math.max(1, Number(values.sessions));

type ToolResult = { replica: string; [k: string]: unknown };

async function runSession(n: number): Promise<string> {
  const say = (s: string) => process.stdout.write(`[session ${n}] ${s}\n`);
  const client = new Client({ name: `demo-client-${n}`, version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: { form: {} } } });
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    const first = req.params.messages[0]?.content;
    const prompt = first && !Array.isArray(first) && first.type === 'text' ? first.text : '';
    say(`  <- sampling request from the server: "${prompt}" (answering as the "model")`);
    return { role: 'assistant', model: 'demo-model', content: { type: 'text', text: `42 is the answer to "${prompt}"` } };
  });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    say(`  <- elicitation request from the server: "${req.params.message}" (answering as the "user")`);
    return { action: 'accept', content: { answer: 'blue' } };
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (note) => {
    say(`  <- notification on the GET stream: ${JSON.stringify(note.params.data)}`);
  });
  await client.connect(new StreamableHTTPClientTransport(url));
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
    return r.structuredContent as ToolResult;
  };
  const replicas = new Set<string>();
  const who = await call('whoami');
  replicas.add(who.replica);
  say(`connected, session ${String(who.sessionId).slice(0, 8)}… lives on replica ${who.replica}`);
  const sampled = await call('ask_model', { prompt: 'What is six times seven?' });
  replicas.add(sampled.replica);
  say(`ask_model (sampling) answered by ${sampled.replica}: ${sampled.answer}`);
  const elicited = await call('ask_user', { question: 'Favourite colour?' });
  replicas.add(elicited.replica);
  say(`ask_user (elicitation) answered by ${elicited.replica}: ${elicited.action} "${elicited.answer}"`);
  await call('announce', { message: 'hello from the server', count: 1 });
  await new Promise((r) => setTimeout(r, 300));
  await client.close();
  if (replicas.size !== 1) throw new Error(`session ${n} was served by several replicas: ${[...replicas].join(', ')}`);
  return who.replica;
}

try {
  const homes = [];
  for (let i = 1; i <= sessions; i++) homes.push(await runSession(i));
  process.stdout.write(`\nOK: ${sessions} session(s), each served end to end by one replica; replicas used: ${[...new Set(homes)].join(', ')}\n`);
} catch (err) {
  process.stderr.write(`demo client failed: ${(err as Error).message}\nIs the demo running (npm start)?\n`);
  process.exit(1);
}
