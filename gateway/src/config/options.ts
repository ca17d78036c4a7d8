// The one schema of the gateway's configuration: every option with its flag, environment variable, default
// and parser. `--help`, the config file, the environment and the flags are all read through this table.
import {
  parseBoolean,
  parseDuration,
  parseEnum,
  parseHttpUrl,
  parseInteger,
  parseList,
  parsePath,
  parseRedisUrl,
  ValueError,
} from './values.ts';
import {
  parseDnsServers,
  parseDnsTarget,
  parseK8sPort,
  parseK8sService,
  type DnsTarget,
  type K8sPort,
  type K8sServiceRef,
} from './discovery-values.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const DISCOVERY_MODES = ['static', 'dns', 'kubernetes'] as const;

export interface GatewayConfig {
  host: string;
  port: number;
  adminHost: string;
  adminPort: number;
  mcpPath: string;
  backends: URL[];
  discovery: (typeof DISCOVERY_MODES)[number];
  dnsName: DnsTarget | undefined;
  dnsServers: string[] | undefined;
  dnsIntervalMs: number;
  k8sService: K8sServiceRef | undefined;
  k8sPort: K8sPort | undefined;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  storeTimeoutMs: number;
  sessionTtlMs: number;
  maxSessions: number;
  sessionCacheSize: number;
  maxBodyBytes: number;
  sseKeepAliveMs: number;
  upstreamConnectTimeoutMs: number;
  upstreamTimeoutMs: number;
  upstreamBodyTimeoutMs: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  maxRetries: number;
  trustProxy: boolean;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  logLevel: (typeof LOG_LEVELS)[number];
}

export interface OptionSpec {
  /** Key in GatewayConfig. */
  key: keyof GatewayConfig;
  /** Long flag without dashes; also the key in a config file. */
  flag: string;
  env: string;
  /** Shown in --help; the default's text form. */
  defaultText: string;
  help: string;
  /** true for switches that take no value on the command line. */
  boolean?: boolean;
  /** Turns the raw text into the typed value; throws ValueError. Undefined means "leave unset". */
  parse: (raw: string) => unknown;
}

const port = (raw: string) => parseInteger(raw, 0, 65535);
const positive = (max: number) => (raw: string) => parseInteger(raw, 1, max);
const duration = (raw: string) => parseDuration(raw);
const nonZeroDuration = (raw: string) => {
  const ms = parseDuration(raw);
  if (ms <= 0) throw new ValueError(`expected a duration above 0, got '${raw}'`);
  return ms;
};

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'host', flag: 'host', env: 'HOST', defaultText: '0.0.0.0', help: 'Address the MCP listener binds.', parse: (r) => r.trim() },
  { key: 'port', flag: 'port', env: 'PORT', defaultText: '8080', help: 'Port of the MCP listener (0 = any free port).', parse: port },
  { key: 'adminHost', flag: 'admin-host', env: 'ADMIN_HOST', defaultText: '0.0.0.0', help: 'Address the admin listener (metrics, health) binds.', parse: (r) => r.trim() },
  { key: 'adminPort', flag: 'admin-port', env: 'ADMIN_PORT', defaultText: '9090', help: 'Port of the admin listener: /metrics, /healthz, /readyz, /backends.', parse: port },
  { key: 'mcpPath', flag: 'mcp-path', env: 'MCP_PATH', defaultText: '/mcp', help: 'Path of the MCP endpoint, on the gateway and on every backend.', parse: parsePath },
  {
    key: 'backends',
    flag: 'backends',
    env: 'MCP_BACKENDS',
    defaultText: '(none)',
    help: 'Comma-separated backend MCP endpoint URLs (static discovery), e.g. http://a:3000/mcp,http://b:3000/mcp.',
    parse: (raw) => {
      const urls = parseList(raw).map((u) => parseHttpUrl(u, 'backend URL'));
      const seen = new Set<string>();
      for (const u of urls) {
        if (seen.has(u.href)) throw new ValueError(`backend ${u.href} is listed twice`);
        seen.add(u.href);
      }
      return urls;
    },
  },
  {
    key: 'discovery',
    flag: 'discovery',
    env: 'DISCOVERY',
    defaultText: 'static',
    help: 'How backends are found: static (--backends), dns (--dns-name, re-resolved), kubernetes (EndpointSlices of --k8s-service).',
    parse: (r) => parseEnum(r, DISCOVERY_MODES),
  },
  {
    key: 'dnsName',
    flag: 'dns-name',
    env: 'DNS_NAME',
    defaultText: '(none)',
    help: 'dns discovery: host:port of a headless Service (A/AAAA records, one port), or an SRV name (_mcp._tcp.svc.ns.svc.cluster.local: a port per target).',
    parse: parseDnsTarget,
  },
  {
    key: 'dnsServers',
    flag: 'dns-server',
    env: 'DNS_SERVER',
    defaultText: '(the system resolver)',
    help: 'dns discovery: comma-separated resolver addresses (ip or ip:port) to ask instead of /etc/resolv.conf.',
    parse: parseDnsServers,
  },
  { key: 'dnsIntervalMs', flag: 'dns-interval', env: 'DNS_INTERVAL', defaultText: '5s', help: 'dns discovery: how often --dns-name is resolved again.', parse: nonZeroDuration },
  {
    key: 'k8sService',
    flag: 'k8s-service',
    env: 'K8S_SERVICE',
    defaultText: '(none)',
    help: 'kubernetes discovery: the Service whose EndpointSlices list the backend pods, as name (own namespace) or namespace/name.',
    parse: parseK8sService,
  },
  {
    key: 'k8sPort',
    flag: 'k8s-port',
    env: 'K8S_PORT',
    defaultText: '(the Service\'s first port)',
    help: 'kubernetes discovery: the Service port name, or the pods\' port number, that serves MCP.',
    parse: parseK8sPort,
  },
  {
    key: 'redisUrl',
    flag: 'redis-url',
    env: 'REDIS_URL',
    defaultText: '(none: in-memory store, one replica only)',
    help: 'Redis for the shared session map (redis:// or rediss://). Without it sessions live in this process only.',
    parse: parseRedisUrl,
  },
  { key: 'redisKeyPrefix', flag: 'redis-key-prefix', env: 'REDIS_KEY_PREFIX', defaultText: 'mcpgw:', help: 'Prefix of every Redis key and channel the gateway uses.', parse: (r) => r },
  { key: 'storeTimeoutMs', flag: 'store-timeout', env: 'STORE_TIMEOUT', defaultText: '500ms', help: 'Longest wait for one session-store operation before it counts as failed.', parse: nonZeroDuration },
  { key: 'sessionTtlMs', flag: 'session-ttl', env: 'SESSION_TTL', defaultText: '1h', help: 'Idle time after which a session binding expires (sliding: every request renews it).', parse: nonZeroDuration },
  { key: 'maxSessions', flag: 'max-sessions', env: 'MAX_SESSIONS', defaultText: '100000', help: 'In-memory store only: most sessions held; past it new sessions get 503.', parse: positive(10_000_000) },
  { key: 'sessionCacheSize', flag: 'session-cache-size', env: 'SESSION_CACHE_SIZE', defaultText: '100000', help: 'Redis store only: sessions kept in this replica\'s local cache (routes without a store round trip).', parse: positive(10_000_000) },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: 'MAX_BODY_BYTES', defaultText: '4194304', help: 'Largest POST body accepted (413 above it).', parse: positive(1 << 30) },
  { key: 'sseKeepAliveMs', flag: 'sse-keepalive', env: 'SSE_KEEPALIVE', defaultText: '15s', help: 'Idle SSE streams get a comment line this often (0s disables).', parse: duration },
  { key: 'upstreamConnectTimeoutMs', flag: 'upstream-connect-timeout', env: 'UPSTREAM_CONNECT_TIMEOUT', defaultText: '3s', help: 'Longest wait for a TCP connection to a backend.', parse: nonZeroDuration },
  { key: 'upstreamTimeoutMs', flag: 'upstream-timeout', env: 'UPSTREAM_TIMEOUT', defaultText: '5m', help: 'Longest wait for a backend\'s response headers (a tool call answered as JSON arrives only when done).', parse: nonZeroDuration },
  { key: 'upstreamBodyTimeoutMs', flag: 'upstream-body-timeout', env: 'UPSTREAM_BODY_TIMEOUT', defaultText: '60s', help: 'Longest silence inside a non-streaming (JSON) response body. SSE streams have no body timeout.', parse: nonZeroDuration },
  { key: 'healthIntervalMs', flag: 'health-interval', env: 'HEALTH_INTERVAL', defaultText: '5s', help: 'How often each backend is probed (active health check); down backends are probed at a fifth of it.', parse: nonZeroDuration },
  { key: 'healthTimeoutMs', flag: 'health-timeout', env: 'HEALTH_TIMEOUT', defaultText: '2s', help: 'Longest wait for a health probe\'s response headers.', parse: nonZeroDuration },
  { key: 'maxRetries', flag: 'max-retries', env: 'MAX_RETRIES', defaultText: '2', help: 'Other backends tried when a connection to the chosen one fails (nothing was delivered).', parse: (r) => parseInteger(r, 0, 100) },
  { key: 'trustProxy', flag: 'trust-proxy', env: 'TRUST_PROXY', defaultText: 'false', boolean: true, help: 'Trust X-Forwarded-* from the client side (the gateway runs behind another proxy).', parse: parseBoolean },
  { key: 'drainDelayMs', flag: 'drain-delay', env: 'DRAIN_DELAY', defaultText: '0s', help: 'On SIGTERM, time to keep serving while reporting not-ready (lets endpoints update) before closing.', parse: duration },
  { key: 'shutdownTimeoutMs', flag: 'shutdown-timeout', env: 'SHUTDOWN_TIMEOUT', defaultText: '20s', help: 'On SIGTERM, longest wait for in-flight requests before connections are closed.', parse: nonZeroDuration },
  { key: 'logLevel', flag: 'log-level', env: 'LOG_LEVEL', defaultText: 'info', help: `Log level: ${LOG_LEVELS.join(', ')}.`, parse: (r) => parseEnum(r, LOG_LEVELS) },
];

/** Defaults as raw text, so that they go through the same parsers as user input. */
export function defaultRawValues(): Map<keyof GatewayConfig, string> {
  const out = new Map<keyof GatewayConfig, string>();
  for (const o of OPTIONS) {
    if (!o.defaultText.startsWith('(')) out.set(o.key, o.defaultText);
  }
  return out;
}
