// relayResponse on bounded (non-SSE) bodies, over real sockets: a backend server, a relay server that
// forwards with undici + relayResponse, and a client. Checks each outcome the forwarder acts on, and
// backpressure for both answer kinds (JSON and SSE).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Pool } from 'undici';
import type { Backend } from '../../gateway/src/backends/backend.ts';
import { ClientAbort } from '../../gateway/src/proxy/client-abort.ts';
import { relayResponse, type RelayOptions, type RelayOutcome } from '../../gateway/src/proxy/relay.ts';
import { sendUpstream } from '../../gateway/src/proxy/send.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

describe('relayResponse (bounded bodies)', () => {
  let backend: Handler = () => undefined;
  let upstream: { server: Server; port: number };
  let relay: { server: Server; port: number };
  let pool: Pool;
  let outcomes: RelayOutcome[] = [];
  let idleMs = 5000;
  let extraOptions: Partial<RelayOptions> = {};
  /** The relay's client is gone before the backend's head arrives (the exchange already saw 'close'). */
  let clientGoneFirst = false;

  before(async () => {
    upstream = await listen((req, res) => backend(req, res));
    pool = new Pool(`http://127.0.0.1:${upstream.port}`);
    relay = await listen((_req, res) => {
      void (async () => {
        const up = await sendUpstream({ pool, path: '/' } as Backend, { method: 'GET', headers: {}, body: undefined, clientAbort: new ClientAbort() }, 30_000);
        if (clientGoneFirst) {
          res.destroy();
          await once(res, 'close');
        }
        outcomes.push(await relayResponse(up, res, { sseKeepAliveMs: 0, bodyIdleTimeoutMs: idleMs, ...extraOptions }));
      })();
    });
  });
  after(async () => {
    relay.server.closeAllConnections();
    upstream.server.closeAllConnections();
    await Promise.all([new Promise((r) => relay.server.close(r)), new Promise((r) => upstream.server.close(r)), pool.destroy()]);
  });

  const waitOutcome = async () => {
    const deadline = Date.now() + 30_000;
    while (outcomes.length === 0) {
      if (Date.now() > deadline) throw new Error('no relay outcome within 30 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    return outcomes.shift() as RelayOutcome;
  };

  function get(): Promise<{ status: number; body: string; error?: string }> {
    return new Promise((resolve) => {
      const req = httpRequest({ port: relay.port, host: '127.0.0.1', path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (e) => resolve({ status: res.statusCode ?? 0, body, error: e.message }));
      });
      req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
      req.end();
    });
  }

  test('a complete body arrives byte for byte, with status and headers', async () => {
    outcomes = [];
    const big = 'x'.repeat(256 * 1024); // larger than a socket buffer: backpressure is exercised
    backend = (_req, res) => res.writeHead(201, { 'content-type': 'application/json', 'x-test': 'kept' }).end(`{"a":"${big}"}`);
    const res = await get();
    assert.equal(res.status, 201);
    assert.equal(res.body, `{"a":"${big}"}`);
    assert.deepEqual(await waitOutcome(), { result: 'complete' });
  });

  // A client that stops reading must hold the backend back (the relay pauses it and resumes it on 'drain'),
  // not make the relay buffer the body: 32 MiB is more than the sockets and streams between them can hold.
  for (const contentType of ['application/json', 'text/event-stream']) {
    test(`a paused client holds the backend back, and the whole body arrives when it reads again (${contentType})`, async () => {
      outcomes = [];
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const total = 512 * chunk.length;
      let written = 0;
      let backendDone = false;
      backend = (_req, res) => {
        res.writeHead(200, { 'content-type': contentType });
        const pump = () => {
          while (written < total) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          backendDone = true;
          res.end();
        };
        pump();
      };
      let received = 0;
      const paused = new Promise<IncomingMessage>((resolve) => {
        const req = httpRequest({ port: relay.port, host: '127.0.0.1', path: '/', agent: false }, (res) => {
          res.once('data', (c: Buffer) => {
            received += c.length;
            res.pause();
            resolve(res);
          });
        });
        req.end();
      });
      const res = await paused;
      // The backend writes while it can; once every buffer on the way is full it must wait.
      let before = -1;
      while (written !== before) {
        before = written;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(backendDone, false, `the backend wrote all ${total} bytes to a client that reads nothing`);
      assert.ok(written < total);
      res.on('data', (c: Buffer) => (received += c.length));
      res.resume();
      await once(res, 'end');
      assert.equal(received, total);
      assert.deepEqual(await waitOutcome(), { result: 'complete' });
    });
  }

  // The exchange reports a close that already happened at once; the relay must settle on it (no listener on
  // the response would ever fire again), throw the backend's answer away, and register no open stream.
  for (const contentType of ['application/json', 'text/event-stream']) {
    test(`a client gone before the answer's head settles as client-closed and opens no stream (${contentType})`, async () => {
      outcomes = [];
      let opened = 0;
      let backendSawClose: Promise<unknown> = Promise.resolve();
      clientGoneFirst = true;
      extraOptions = { onResponseClose: (fn) => fn(), onStreamOpen: () => void opened++ };
      backend = (_req, res) => {
        res.writeHead(200, { 'content-type': contentType });
        res.write(contentType === 'text/event-stream' ? 'event: message\ndata: {}\n\n' : '{"partial":');
        backendSawClose = once(res, 'close');
      };
      try {
        await get();
        assert.deepEqual(await waitOutcome(), { result: 'client-closed' });
        await backendSawClose; // the backend request was aborted, not left open
        assert.equal(opened, 0);
      } finally {
        clientGoneFirst = false;
        extraOptions = {};
      }
    });
  }

  test('an empty body (202) completes', async () => {
    outcomes = [];
    backend = (_req, res) => res.writeHead(202).end();
    const res = await get();
    assert.equal(res.status, 202);
    assert.equal(res.body, '');
    assert.deepEqual(await waitOutcome(), { result: 'complete' });
  });

  test('a backend that fails mid-body cuts the client and reports upstream-failed', async () => {
    outcomes = [];
    backend = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 50);
    };
    const res = await get();
    assert.ok(res.error !== undefined || res.body.length < 1000, 'the client does not get a whole body');
    assert.equal((await waitOutcome()).result, 'upstream-failed');
  });

  test('a backend that goes silent mid-body is cut after the idle timeout', async () => {
    outcomes = [];
    idleMs = 100;
    backend = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"slow":');
    };
    await get();
    const outcome = await waitOutcome();
    idleMs = 5000;
    assert.equal(outcome.result, 'upstream-failed');
    assert.equal((outcome as { error: { code?: string } }).error.code, 'GW_BODY_IDLE_TIMEOUT');
  });

  test('a client that goes away aborts the backend request and reports client-closed', async () => {
    outcomes = [];
    let backendSawClose: Promise<unknown> = Promise.resolve();
    backend = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"waiting":');
      backendSawClose = once(res, 'close');
    };
    const req = httpRequest({ port: relay.port, host: '127.0.0.1', path: '/', agent: false }, (res) => {
      res.once('data', () => req.destroy());
    });
    req.on('error', () => undefined);
    req.end();
    assert.deepEqual(await waitOutcome(), { result: 'client-closed' });
    await backendSawClose;
  });
});
