// The baselines users would otherwise pick, from Debian's packages, with configs generated into the run's
// temp dir: HAProxy `balance hdr(Mcp-Session-Id)` and nginx `hash $http_mcp_session_id consistent`. Both
// get one thread/worker (the comparison pins each proxy to one core), keep-alive to the backends, no access
// log, and no buffering of SSE. Neither can keep a session on the backend that minted it: `initialize` has no
// session id to hash, so it lands wherever round robin puts it (see bench/README section in the README).
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, requireBinary } from '../../test/support/redis.ts';
import { waitForPort, type ProcessGroup } from './procs.ts';
import type { Replica } from './topology.ts';

const SBIN = { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };

function findProxy(name: string): string {
  process.env.PATH = SBIN.PATH; // Debian installs both in /usr/sbin
  return requireBinary(name, `install it with \`scripts/system-deps.sh bench\` (apt-get install -y ${name})`);
}

function hostPort(url: string): string {
  return new URL(url).host;
}

export function haproxyConfig(port: number, backends: readonly string[]): string {
  return [
    'global',
    '  nbthread 1',
    '  maxconn 9900',
    '  tune.bufsize 16384',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  timeout connect 3s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout http-keep-alive 60s',
    'frontend mcp',
    `  bind 127.0.0.1:${port}`,
    '  maxconn 9900',
    '  default_backend mcp',
    'backend mcp',
    // Hash of the session header; requests without it (initialize) fall back to round robin.
    '  balance hdr(Mcp-Session-Id)',
    '  hash-type consistent',
    '  http-reuse always',
    ...backends.map((u, i) => `  server s${i} ${hostPort(u)} maxconn 9900`),
    '',
  ].join('\n');
}

export function nginxConfig(dir: string, port: number, backends: readonly string[]): string {
  return [
    'daemon off;',
    // One process: the worker does the work and its CPU time is the process's (pinned with taskset).
    'master_process off;',
    'worker_processes 1;',
    'worker_rlimit_nofile 60000;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/nginx-error.log warn;`,
    'events { worker_connections 30000; multi_accept on; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${dir}/nginx-body;`,
    `  proxy_temp_path ${dir}/nginx-proxy;`,
    `  fastcgi_temp_path ${dir}/nginx-fastcgi;`,
    `  uwsgi_temp_path ${dir}/nginx-uwsgi;`,
    `  scgi_temp_path ${dir}/nginx-scgi;`,
    '  keepalive_requests 1000000;',
    '  upstream mcp {',
    // An empty key (initialize) makes nginx fall back to round robin.
    '    hash $http_mcp_session_id consistent;',
    ...backends.map((u) => `    server ${hostPort(u)};`),
    '    keepalive 512;',
    '    keepalive_requests 1000000;',
    '  }',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    location / {',
    '      proxy_pass http://mcp;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    // SSE must flow as it is written.
    '      proxy_buffering off;',
    '      proxy_cache off;',
    '      proxy_read_timeout 1h;',
    '      proxy_send_timeout 1h;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

export async function startHaproxy(group: ProcessGroup, backends: readonly string[], cpus?: string): Promise<Replica> {
  const bin = findProxy('haproxy');
  const port = await freePort();
  const file = join(group.logDir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(port, backends));
  // -db: foreground, no daemon; -f: the generated config.
  const proc = group.spawn('haproxy', bin, ['-db', '-f', file], { cpus, env: SBIN });
  await waitForPort(port, proc);
  return { name: 'haproxy', url: `http://127.0.0.1:${port}/mcp`, proc };
}

export async function startNginx(group: ProcessGroup, backends: readonly string[], cpus?: string): Promise<Replica> {
  const bin = findProxy('nginx');
  const port = await freePort();
  const dir = join(group.logDir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, nginxConfig(dir, port, backends));
  const proc = group.spawn('nginx', bin, ['-p', dir, '-c', file, '-e', join(dir, 'nginx-error.log')], { cpus, env: SBIN });
  await waitForPort(port, proc);
  return { name: 'nginx', url: `http://127.0.0.1:${port}/mcp`, proc };
}
