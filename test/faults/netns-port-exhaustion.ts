// Runs inside a network namespace of its own (`unshare -rn`, started by local-errors.test.ts), where this
// process may narrow the ephemeral port range: a real EADDRNOTAVAIL, the gateway's own ports running out,
// as a busy gateway meets it (connect(2): "no more free local ports"). Prints one JSON line per
// observation; the test asserts on them. Everything it starts, it stops.
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { startBackend } from '../support/backends.ts';
import { startGateway } from '../support/gateway.ts';
import { metricSum, parsePrometheus } from '../support/prom.ts';
import { post, rawCall, rawSession, rpc } from '../support/raw-mcp.ts';
import { freePort } from '../support/redis.ts';
import { eventually } from '../support/wait.ts';

const RANGE = '/proc/sys/net/ipv4/ip_local_port_range';
const report = (what: string, value: unknown) => console.log(JSON.stringify({ what, value }));

/** Established TCP connections to `port` on loopback (from /proc/net/tcp: state 01). */
function connectionsTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return f[2]?.endsWith(`:${hex}`) && f[3] === '01';
    }).length;
}

const backend = await startBackend('b');
// No probe after the first for a while, so that the pooled connections idle out and the session's next
// request must open a new one; the probes' side is the second gateway's, below.
const gateway = await startGateway({ backends: [backend.url], args: ['--health-interval', '10m', '--backend-wait', '500ms'] });
let prober: Awaited<ReturnType<typeof startGateway>> | undefined;
const held: net.Socket[] = [];
try {
  // The prober's listening ports, chosen while the range is wide (a listener on port 0 takes an ephemeral one).
  const proberPorts = [await freePort(), await freePort()];
  const sid = await rawSession(gateway.mcpUrl);
  report('before', (await rawCall(gateway.mcpUrl, sid, 'whoami')).status);
  // Two ephemeral ports left for the whole namespace, then taken by connections to the backend: the gateway
  // can open no new connection to it (its pooled ones stay usable until they idle out).
  writeFileSync(RANGE, '61000 61001');
  await eventually('the gateway idle connections to the backend closed', () => connectionsTo(backend.port) === 0, { timeoutMs: 60_000 });
  for (;;) {
    const code = await new Promise<string | undefined>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: backend.port });
      s.once('connect', () => (held.push(s), resolve(undefined)));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
    });
    if (code === 'EADDRNOTAVAIL') break;
    if (code) throw new Error(`unexpected ${code}`);
    if (held.length > 100) throw new Error('the port range did not narrow');
  }
  report('held', held.length);
  const res = await post(gateway.mcpUrl, rpc('tools/call', { name: 'whoami', arguments: {} }, 4), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
  report('during', { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() });
  const init = await post(gateway.mcpUrl, rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } }, 2));
  report('initialize', { status: init.status, retryAfter: init.headers.get('retry-after') });
  await init.text();
  // A gateway that starts now: its probes (the first one at start, then every second) meet the same shortage.
  prober = await startGateway({
    backends: [backend.url],
    args: ['--health-interval', '1s', '--health-timeout', '300ms', '--port', String(proberPorts[0]), '--admin-port', String(proberPorts[1])],
  });
  const p = prober;
  await eventually('three probes that failed on the gateway side', () => p.service.json().filter((l) => l.msg === 'health probe failed on the gateway side: no verdict').length >= 3);
  report('probeError', p.service.json().find((l) => l.msg === 'health probe failed on the gateway side: no verdict')?.error);
  for (const [name, gw] of [['gateway', gateway], ['prober', p]] as const) {
    const m = parsePrometheus(await gw.metricsText());
    report(name, {
      state: (await gw.admin<Array<{ state: string }>>('/backends'))[0]?.state,
      ejections: metricSum(m, 'mcp_gateway_backend_ejections_total'),
      local: metricSum(m, 'mcp_gateway_upstream_errors_total', { kind: 'local' }),
      lost: metricSum(m, 'mcp_gateway_sessions_lost_total'),
    });
  }
  for (const s of held.splice(0)) s.destroy();
  writeFileSync(RANGE, '32768 60999');
  report('after', (await rawCall(gateway.mcpUrl, sid, 'whoami')).status);
  report('afterProber', (await rawCall(p.mcpUrl, await rawSession(p.mcpUrl), 'whoami')).status);
} finally {
  for (const s of held) s.destroy();
  await prober?.stop();
  await gateway.stop();
  await backend.stop();
}
