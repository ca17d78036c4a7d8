// The admin port of `--workers N`, served by the primary for all workers:
//   /healthz   the primary is alive (it restarts dead workers)
//   /readyz    200 while at least one worker is ready (the port answers); the body lists every worker
//   /metrics   every worker's registry, aggregated (prom-client AggregatorRegistry: counters and histograms
//              summed; gauges by their own `aggregator`, e.g. the store's session count is not multiplied)
//   the rest   (/backends, the identity JWKS, …) from one ready worker's own admin listener on loopback
import type { Worker } from 'node:cluster';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { isMessage, type MetricsAnswer, type MetricsJson } from './messages.ts';

export interface LiveWorker {
  worker: Worker;
  pid: number;
  adminPort: number;
  startedAt: number;
}

const ASK_TIMEOUT_MS = 5000;
let nextAsk = 0;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function metricsOf(w: LiveWorker): Promise<MetricsJson> {
  const id = ++nextAsk;
  return new Promise((resolve) => {
    const timer = setTimeout(() => done([]), ASK_TIMEOUT_MS);
    const onMessage = (m: unknown) => {
      if (isMessage<MetricsAnswer>(m, 'mcp-gateway:metrics') && m.id === id) done(m.metrics);
    };
    const done = (metrics: MetricsJson) => {
      clearTimeout(timer);
      w.worker.off('message', onMessage);
      resolve(metrics);
    };
    w.worker.on('message', onMessage);
    w.worker.send({ type: 'mcp-gateway:metrics?', id });
  });
}

function getFromWorker(w: LiveWorker, path: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: w.adminPort, path, method: 'GET', timeout: ASK_TIMEOUT_MS }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, body, type: String(res.headers['content-type'] ?? 'application/json') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('worker admin timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function readyz(workers: LiveWorker[], stopping: boolean): Promise<{ status: number; body: unknown }> {
  const answers = await Promise.all(
    workers.map(async (w) => {
      try {
        const r = await getFromWorker(w, '/readyz');
        return { worker: w.worker.id, pid: w.pid, httpStatus: r.status, ...(JSON.parse(r.body) as Record<string, unknown>) };
      } catch (err) {
        return { worker: w.worker.id, pid: w.pid, httpStatus: 503, ready: false, status: 'not-ready', reasons: [(err as Error).message] };
      }
    }),
  );
  const readyOnes = answers.filter((a) => a.httpStatus === 200);
  const ready = !stopping && readyOnes.length > 0;
  const first = (readyOnes[0] ?? answers[0] ?? {}) as Record<string, unknown>;
  const reasons = stopping ? ['gateway is draining'] : readyOnes.length === 0 ? ['no worker is ready', ...((first.reasons as string[] | undefined) ?? [])] : (first.reasons ?? []);
  const body = { ...first, ready, status: ready ? first.status : 'not-ready', reasons, workers: answers.map(({ worker, pid, ready: r, status }) => ({ worker, pid, ready: r, status })) };
  delete (body as Record<string, unknown>).httpStatus;
  delete (body as Record<string, unknown>).worker;
  delete (body as Record<string, unknown>).pid;
  return { status: ready ? 200 : 503, body };
}

export async function startWorkersAdmin(live: Map<number, LiveWorker>, o: { host: string; port: number; isStopping: () => boolean }, log: Logger): Promise<Server> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    const workers = [...live.values()].sort((a, b) => a.worker.id - b.worker.id);
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    if (path === '/healthz') return json(res, 200, { status: 'ok', workers: workers.length });
    if (path === '/readyz') {
      const r = await readyz(workers, o.isStopping());
      return json(res, r.status, r.body);
    }
    if (path === '/metrics') {
      const all = await Promise.all(workers.map(metricsOf));
      const registry = AggregatorRegistry.aggregate(all.filter((m) => m.length > 0));
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      return;
    }
    for (const w of workers) {
      try {
        const r = await getFromWorker(w, req.url ?? '/');
        res.writeHead(r.status, { 'content-type': r.type }).end(r.body);
        return;
      } catch {
        // that worker is going away: ask the next one
      }
    }
    json(res, 503, { error: 'no worker is ready' });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.warn({ err, path: req.url }, 'admin request failed');
      if (!res.headersSent) json(res, 500, { error: 'admin request failed' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port }, () => resolve());
  });
  return server;
}
