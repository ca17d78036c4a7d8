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
  AUTH_MODES,
  DEFAULT_IDENTITY_HEADERS,
  parseAlgorithms,
  parseIdentityHeaders,
  parseIssuer,
  parseResourceUrl,
  parseScopeRules,
  parseScopes,
  type AuthConfig,
} from './auth.ts';
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
export const SESSION_RESUME_MODES = ['off', 'reinitialize'] as const;
export const REDIS_MODES = ['standalone', 'sentinel', 'cluster'] as const;

export interface GatewayConfig extends AuthConfig {
  host: string;
  port: number;
  adminHost: string;
  adminPort: number;
  /** The operator's status page on the admin port (admin/status-policy.ts decides where it is served). */
  statusPage: boolean;
  statusToken: string | undefined;
  mcpPath: string;
  legacySse: boolean;
  ssePath: string;
  messagesPath: string;
  backends: URL[];
  discovery: (typeof DISCOVERY_MODES)[number];
  dnsName: DnsTarget | undefined;
  dnsServers: string[] | undefined;
  dnsIntervalMs: number;
  k8sService: K8sServiceRef | undefined;
  k8sPort: K8sPort | undefined;
  redisUrl: string | undefined;
  redisMode: (typeof REDIS_MODES)[number];
  redisUsername: string | undefined;
  redisPassword: string | undefined;
  redisSentinels: string[];
  redisSentinelMaster: string;
  redisTlsCaFile: string | undefined;
  redisKeyPrefix: string;
  storeTimeoutMs: number;
  sessionTtlMs: number;
  maxSessions: number;
  sessionCacheSize: number;
  maxBodyBytes: number;
  maxHeaderBytes: number;
  maxHeaderCount: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  allowedHosts: string[];
  allowedOrigins: string[];
  rateLimit: number;
  rateLimitBurst: number;
  maxSessionsPerPrincipal: number;
  maxStreamsPerSession: number;
  maxStreamsPerPrincipal: number;
  sseKeepAliveMs: number;
  upstreamConnectTimeoutMs: number;
  upstreamTimeoutMs: number;
  upstreamBodyTimeoutMs: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  backendWaitMs: number;
  backendRefusedGraceMs: number;
  backendLostAfterMs: number;
  maxRetries: number;
  trustProxy: boolean;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  /** Worker processes on the MCP port (gateway/src/workers/); undefined = the CPUs this process may use. */
  workers: number | undefined;
  /**
   * Not an option: set for a worker process, whose MCP listener shares the port with its siblings
   * (SO_REUSEPORT, one accept queue per worker, the kernel spreads the connections).
   */
  listenReusePort?: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
  metricsToolLimit: number;
  sessionRecovery: boolean;
  sessionRecoveryTimeoutMs: number;
  sessionRecoveryIdentity: boolean;
  /** Issue 16: what happens to a session whose backend is proven lost (routing/session-resume.ts). */
  sessionResume: (typeof SESSION_RESUME_MODES)[number];
  tracing: boolean;
  otlpEndpoint: string;
  tracingSampleRatio: number;
  serviceName: string;
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
  /** A secret: taken from the environment or the config file, never from the command line (ps shows it). */
  secret?: boolean;
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

const boundedDuration = (raw: string, maxMs: number, minMs = 0) => {
  const ms = parseDuration(raw);
  if (ms < minMs || ms > maxMs) throw new ValueError(`expected a duration from ${minMs}ms to ${maxMs / 1000}s, got '${raw}'`);
  return ms;
};

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'host', flag: 'host', env: 'HOST', defaultText: '0.0.0.0', help: 'Address the MCP listener binds.', parse: (r) => r.trim() },
  { key: 'port', flag: 'port', env: 'PORT', defaultText: '8080', help: 'Port of the MCP listener (0 = any free port).', parse: port },
  { key: 'adminHost', flag: 'admin-host', env: 'ADMIN_HOST', defaultText: '0.0.0.0', help: 'Address the admin listener (metrics, health) binds.', parse: (r) => r.trim() },
  { key: 'adminPort', flag: 'admin-port', env: 'ADMIN_PORT', defaultText: '9090', help: 'Port of the admin listener: /metrics, /healthz, /readyz, /backends.', parse: port },
  {
    key: 'statusPage',
    flag: 'status-page',
    env: 'STATUS_PAGE',
    defaultText: 'true',
    boolean: true,
    help: 'The operator\'s status page (GET / on the admin port, JSON at /status.json and /sessions/<id>). Served without a token only where the admin listener binds a loopback or private address (or any address inside a Kubernetes pod); elsewhere only with --status-token. --no-status-page turns it off.',
    parse: parseBoolean,
  },
  {
    key: 'statusToken',
    flag: 'status-token',
    env: 'STATUS_TOKEN',
    defaultText: '(none)',
    secret: true,
    help: 'A bearer token of its own for the status page\'s JSON API (16+ characters): environment or config file only. When set it is always required, wherever the admin listener binds.',
    parse: (r) => {
      if (r.trim().length < 16) throw new ValueError('expected a token of at least 16 characters');
      return r.trim();
    },
  },
  { key: 'mcpPath', flag: 'mcp-path', env: 'MCP_PATH', defaultText: '/mcp', help: 'Path of the MCP endpoint, on the gateway and on every backend.', parse: parsePath },
  {
    key: 'legacySse',
    flag: 'legacy-sse',
    env: 'LEGACY_SSE',
    defaultText: 'true',
    boolean: true,
    help: 'Carry the 2024-11-05 HTTP+SSE transport (GET --sse-path, POST --messages-path); --no-legacy-sse turns it off.',
    parse: parseBoolean,
  },
  { key: 'ssePath', flag: 'sse-path', env: 'SSE_PATH', defaultText: '/sse', help: 'HTTP+SSE (2024-11-05): path of the stream, on the gateway and on every backend.', parse: parsePath },
  {
    key: 'messagesPath',
    flag: 'messages-path',
    env: 'MESSAGES_PATH',
    defaultText: '/messages',
    help: 'HTTP+SSE (2024-11-05): path (used as written) under which backends advertise their message endpoint (any session parameter, or /messages/<id>); POSTs to --sse-path are carried too.',
    parse: parsePath,
  },
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
  {
    key: 'redisMode',
    flag: 'redis-mode',
    env: 'REDIS_MODE',
    defaultText: 'standalone',
    help: 'standalone, sentinel (--redis-sentinels) or cluster (--redis-url names one seed node).',
    parse: (r) => parseEnum(r, REDIS_MODES),
  },
  { key: 'redisUsername', flag: 'redis-username', env: 'REDIS_USERNAME', defaultText: '(from the URL)', help: 'Redis ACL user (overrides the URL\'s).', parse: (r) => r },
  {
    key: 'redisPassword',
    flag: 'redis-password',
    env: 'REDIS_PASSWORD',
    defaultText: '(from the URL)',
    help: 'Redis password (overrides the URL\'s); prefer the environment variable, e.g. from a Secret.',
    parse: (r) => r,
  },
  {
    key: 'redisSentinels',
    flag: 'redis-sentinels',
    env: 'REDIS_SENTINELS',
    defaultText: '(none)',
    help: 'Sentinel mode: comma-separated host:port of the sentinels.',
    parse: (raw) => {
      const list = parseList(raw);
      for (const s of list) if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(s)) throw new ValueError(`expected host:port, got '${s}'`);
      return list;
    },
  },
  { key: 'redisSentinelMaster', flag: 'redis-sentinel-master', env: 'REDIS_SENTINEL_MASTER', defaultText: 'mymaster', help: 'Sentinel mode: name of the master group.', parse: (r) => r.trim() },
  { key: 'redisTlsCaFile', flag: 'redis-tls-ca-file', env: 'REDIS_TLS_CA_FILE', defaultText: '(system CAs)', help: 'PEM file of CAs trusted for rediss:// connections.', parse: (r) => r.trim() },
  { key: 'redisKeyPrefix', flag: 'redis-key-prefix', env: 'REDIS_KEY_PREFIX', defaultText: 'mcpgw:', help: 'Prefix of every Redis key and channel the gateway uses.', parse: (r) => r },
  { key: 'storeTimeoutMs', flag: 'store-timeout', env: 'STORE_TIMEOUT', defaultText: '500ms', help: 'Longest wait for one session-store operation before it counts as failed.', parse: nonZeroDuration },
  { key: 'sessionTtlMs', flag: 'session-ttl', env: 'SESSION_TTL', defaultText: '1h', help: 'Idle time after which a session binding expires (sliding: every request renews it).', parse: nonZeroDuration },
  { key: 'maxSessions', flag: 'max-sessions', env: 'MAX_SESSIONS', defaultText: '100000', help: 'In-memory store only: most sessions held; past it new sessions get 503.', parse: positive(10_000_000) },
  { key: 'sessionCacheSize', flag: 'session-cache-size', env: 'SESSION_CACHE_SIZE', defaultText: '100000', help: 'Redis store only: sessions kept in this replica\'s local cache (routes without a store round trip).', parse: positive(10_000_000) },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: 'MAX_BODY_BYTES', defaultText: '4194304', help: 'Largest POST body accepted (413 above it).', parse: positive(1 << 30) },
  { key: 'maxHeaderBytes', flag: 'max-header-bytes', env: 'MAX_HEADER_BYTES', defaultText: '16384', help: 'Largest request header block (431 above it).', parse: (r) => parseInteger(r, 1024, 1 << 20) },
  { key: 'maxHeaderCount', flag: 'max-header-count', env: 'MAX_HEADER_COUNT', defaultText: '100', help: 'Most request header fields (431 above it).', parse: (r) => parseInteger(r, 8, 10_000) },
  {
    key: 'headersTimeoutMs',
    flag: 'headers-timeout',
    env: 'HEADERS_TIMEOUT',
    defaultText: '10s',
    help: 'Longest time a client may take to send its request headers (slow-header attacks; 408).',
    parse: nonZeroDuration,
  },
  {
    key: 'requestTimeoutMs',
    flag: 'request-timeout',
    env: 'REQUEST_TIMEOUT',
    defaultText: '30s',
    help: 'Longest time a client may take to send a whole request, body included (slow bodies; 408). Responses, and so streams, are not limited.',
    parse: nonZeroDuration,
  },
  {
    key: 'maxConnections',
    flag: 'max-connections',
    env: 'MAX_CONNECTIONS',
    defaultText: '20000',
    help: 'Open client connections before new ones get 503 + Retry-After (0 = no cap). Keep it below the file-descriptor limit.',
    parse: (r) => parseInteger(r, 0, 10_000_000),
  },
  {
    key: 'allowedHosts',
    flag: 'allowed-hosts',
    env: 'ALLOWED_HOSTS',
    defaultText: '(loopback names when listening on loopback, else any)',
    help: 'Host names (no port) requests may name in Host; others get 403 (DNS rebinding protection). * allows any.',
    parse: (r) => parseList(r),
  },
  {
    key: 'allowedOrigins',
    flag: 'allowed-origins',
    env: 'ALLOWED_ORIGINS',
    defaultText: '(loopback origins when listening on loopback, else any)',
    help: 'Origins (scheme://host[:port]) a browser request may come from; others get 403. Requests without Origin pass. * allows any.',
    parse: (r) => parseList(r),
  },
  {
    key: 'rateLimit',
    flag: 'rate-limit',
    env: 'RATE_LIMIT',
    defaultText: '50',
    help: 'Requests per second each principal may make, shared by all replicas through the store (auth on; 0 = no limit). Over it: 429 + Retry-After.',
    parse: (r) => parseInteger(r, 0, 1_000_000),
  },
  { key: 'rateLimitBurst', flag: 'rate-limit-burst', env: 'RATE_LIMIT_BURST', defaultText: '100', help: 'Requests a principal may make at once before --rate-limit applies.', parse: (r) => parseInteger(r, 1, 1_000_000) },
  {
    key: 'maxSessionsPerPrincipal',
    flag: 'max-sessions-per-principal',
    env: 'MAX_SESSIONS_PER_PRINCIPAL',
    defaultText: '100',
    help: 'Live sessions one principal may hold across all replicas (auth on; 0 = no limit); initialize beyond it gets 429.',
    parse: (r) => parseInteger(r, 0, 10_000_000),
  },
  { key: 'maxStreamsPerSession', flag: 'max-streams-per-session', env: 'MAX_STREAMS_PER_SESSION', defaultText: '8', help: 'Listening streams (GET, subscriptions/listen) open per session on one replica; more get 429.', parse: (r) => parseInteger(r, 1, 100_000) },
  {
    key: 'maxStreamsPerPrincipal',
    flag: 'max-streams-per-principal',
    env: 'MAX_STREAMS_PER_PRINCIPAL',
    defaultText: '64',
    help: 'Listening streams open per principal on one replica (auth on); more get 429.',
    parse: (r) => parseInteger(r, 1, 10_000_000),
  },
  { key: 'sseKeepAliveMs', flag: 'sse-keepalive', env: 'SSE_KEEPALIVE', defaultText: '15s', help: 'Idle SSE streams get a comment line this often (0s disables).', parse: duration },
  { key: 'upstreamConnectTimeoutMs', flag: 'upstream-connect-timeout', env: 'UPSTREAM_CONNECT_TIMEOUT', defaultText: '3s', help: 'Longest wait for a TCP connection to a backend.', parse: nonZeroDuration },
  { key: 'upstreamTimeoutMs', flag: 'upstream-timeout', env: 'UPSTREAM_TIMEOUT', defaultText: '5m', help: 'Longest wait for a backend\'s response headers (a tool call answered as JSON arrives only when done).', parse: nonZeroDuration },
  { key: 'upstreamBodyTimeoutMs', flag: 'upstream-body-timeout', env: 'UPSTREAM_BODY_TIMEOUT', defaultText: '60s', help: 'Longest silence inside a non-streaming (JSON) response body. SSE streams have no body timeout.', parse: nonZeroDuration },
  { key: 'healthIntervalMs', flag: 'health-interval', env: 'HEALTH_INTERVAL', defaultText: '5s', help: 'How often each backend is probed (active health check); ejected and lost backends are probed at a fifth of it.', parse: nonZeroDuration },
  { key: 'healthTimeoutMs', flag: 'health-timeout', env: 'HEALTH_TIMEOUT', defaultText: '2s', help: 'Longest wait for a health probe\'s response headers; a probe that times out ejects the backend (suspicion: its sessions stay bound).', parse: nonZeroDuration },
  // Proof of loss, not suspicion (README "Reliability"): only these unbind a still-discovered backend's sessions.
  {
    key: 'backendWaitMs',
    flag: 'backend-wait',
    env: 'BACKEND_WAIT',
    // Longer than --backend-refused-grace plus the probe spacing of an ejected backend (a fifth of
    // --health-interval): a killed backend's requests then end with the proof (404, or a resume) rather
    // than with a 503 the client sees just before it.
    defaultText: '10s',
    help: 'How long a session\'s request waits for its ejected (suspected) backend to answer again, or to be proven lost, before 503 + Retry-After (0s: answer 503 at once). Keep it above --backend-refused-grace plus a fifth of --health-interval.',
    parse: duration,
  },
  {
    key: 'backendRefusedGraceMs',
    flag: 'backend-refused-grace',
    env: 'BACKEND_REFUSED_GRACE',
    defaultText: '5s',
    help: 'A backend that refuses connections on every probe for this long is lost: its sessions are unbound (404). Shorter refusals only eject it.',
    parse: duration,
  },
  {
    key: 'backendLostAfterMs',
    flag: 'backend-lost-after',
    env: 'BACKEND_LOST_AFTER',
    defaultText: '60s',
    help: 'A backend ejected (timing out, stalled, answering 5xx) for longer than this is lost: its sessions are unbound (404). Keep it well above a GC pause.',
    parse: nonZeroDuration,
  },
  { key: 'maxRetries', flag: 'max-retries', env: 'MAX_RETRIES', defaultText: '2', help: 'Other backends tried when a connection to the chosen one fails (nothing was delivered).', parse: (r) => parseInteger(r, 0, 100) },
  { key: 'trustProxy', flag: 'trust-proxy', env: 'TRUST_PROXY', defaultText: 'false', boolean: true, help: 'Trust X-Forwarded-* from the client side (the gateway runs behind another proxy).', parse: parseBoolean },
  { key: 'drainDelayMs', flag: 'drain-delay', env: 'DRAIN_DELAY', defaultText: '0s', help: 'On SIGTERM, time to keep serving while reporting not-ready (lets endpoints update) before closing.', parse: duration },
  { key: 'shutdownTimeoutMs', flag: 'shutdown-timeout', env: 'SHUTDOWN_TIMEOUT', defaultText: '20s', help: 'On SIGTERM, longest wait for in-flight requests before connections are closed.', parse: nonZeroDuration },
  {
    key: 'workers',
    flag: 'workers',
    env: 'WORKERS',
    defaultText: '(the CPUs this process may use; 1 without --redis-url)',
    help: 'Gateway processes on one port (SO_REUSEPORT on Linux, else the cluster module), each with its own store connections; the admin port aggregates /metrics. 1 = one process. More than 1 needs --redis-url.',
    parse: positive(1024),
  },
  // Auth (gateway/src/auth/; README "Auth"): the gateway as an OAuth 2.1 resource server (MCP authorization spec).
  { key: 'auth', flag: 'auth', env: 'AUTH', defaultText: 'none', help: `Bearer auth on the MCP port: ${AUTH_MODES.join(', ')}.`, parse: (r) => parseEnum(r, AUTH_MODES) },
  { key: 'resourceUrl', flag: 'resource-url', env: 'RESOURCE_URL', defaultText: '(none)', help: 'Public URL of the MCP endpoint (e.g. https://mcp.example.com/mcp): the token audience and the protected resource (RFC 8707, RFC 9728).', parse: parseResourceUrl },
  { key: 'authIssuer', flag: 'auth-issuer', env: 'AUTH_ISSUER', defaultText: '(none)', help: 'Issuer identifier of the authorization server: JWT `iss` must equal it; listed in the resource metadata; its metadata names the JWKS.', parse: parseIssuer },
  { key: 'authJwksUrl', flag: 'auth-jwks-url', env: 'AUTH_JWKS_URL', defaultText: '(from the issuer metadata)', help: 'JWKS URL of the token signing keys (otherwise from the issuer\'s RFC 8414 / OpenID metadata).', parse: (r) => parseHttpUrl(r, 'JWKS URL') },
  { key: 'authAudience', flag: 'auth-audience', env: 'AUTH_AUDIENCE', defaultText: '(the resource URL)', help: 'Comma-separated audiences a token may carry (one must match).', parse: (r) => parseList(r) },
  { key: 'authRequiredScopes', flag: 'auth-required-scopes', env: 'AUTH_REQUIRED_SCOPES', defaultText: '(none)', help: 'Scopes every request needs (403 insufficient_scope otherwise); also the resource metadata\'s scopes_supported.', parse: parseScopes },
  { key: 'authMethodScopes', flag: 'auth-method-scopes', env: 'AUTH_METHOD_SCOPES', defaultText: '(none)', help: 'More scopes per method or tool: method[:name]=scope [scope...], comma-separated, e.g. tools/call:deploy=deploy:write.', parse: parseScopeRules },
  { key: 'authAlgorithms', flag: 'auth-algorithms', env: 'AUTH_ALGORITHMS', defaultText: 'RS256,PS256,ES256,EdDSA', help: 'JWS algorithms accepted for JWT access tokens (asymmetric only; none and HS* are refused).', parse: parseAlgorithms },
  { key: 'authClockSkewMs', flag: 'auth-clock-skew', env: 'AUTH_CLOCK_SKEW', defaultText: '30s', help: 'Clock skew tolerated on exp/nbf/iat.', parse: (r) => boundedDuration(r, 5 * 60_000) },
  { key: 'authJwksCooldownMs', flag: 'auth-jwks-cooldown', env: 'AUTH_JWKS_COOLDOWN', defaultText: '30s', help: 'Least time between two JWKS fetches (an unknown kid refetches, at most this often).', parse: nonZeroDuration },
  { key: 'authJwksMaxAgeMs', flag: 'auth-jwks-max-age', env: 'AUTH_JWKS_MAX_AGE', defaultText: '10m', help: 'JWKS refetched when older than this (kept if the refetch fails).', parse: nonZeroDuration },
  { key: 'authIntrospectionUrl', flag: 'auth-introspection-url', env: 'AUTH_INTROSPECTION_URL', defaultText: '(none)', help: 'RFC 7662 token introspection endpoint (--auth introspection).', parse: (r) => parseHttpUrl(r, 'introspection URL') },
  { key: 'authClientId', flag: 'auth-client-id', env: 'AUTH_CLIENT_ID', defaultText: '(none)', help: 'Client id the gateway introspects with (HTTP Basic).', parse: (r) => r.trim() },
  { key: 'authClientSecret', flag: 'auth-client-secret', env: 'AUTH_CLIENT_SECRET', defaultText: '(none)', secret: true, help: 'Client secret for introspection: environment or config file only.', parse: (r) => r },
  { key: 'authClientSecretFile', flag: 'auth-client-secret-file', env: 'AUTH_CLIENT_SECRET_FILE', defaultText: '(none)', help: 'File holding the introspection client secret (e.g. a mounted Secret).', parse: (r) => r.trim() },
  { key: 'authIntrospectionCacheMs', flag: 'auth-introspection-cache', env: 'AUTH_INTROSPECTION_CACHE', defaultText: '60s', help: 'Longest time an introspection answer is reused (never past the token\'s exp; 0s = always ask).', parse: duration },
  { key: 'authApiKeysFile', flag: 'auth-api-keys-file', env: 'AUTH_API_KEYS_FILE', defaultText: '(none)', help: 'API keys, hashed: lines of `id sha256:<hex> [scope...]`; reloaded when the file changes.', parse: (r) => r.trim() },
  { key: 'authApiKeys', flag: 'auth-api-keys', env: 'AUTH_API_KEYS', defaultText: '(none)', secret: true, help: 'API keys in the file format, entries separated by `;` or newlines: environment or config file only.', parse: (r) => r },
  { key: 'identityHeaders', flag: 'identity-headers', env: 'IDENTITY_HEADERS', defaultText: DEFAULT_IDENTITY_HEADERS, help: 'Headers that carry the verified identity to backends (field=header; fields subject, client_id, scopes, issuer, jwt), or none. The client\'s own are always removed.', parse: parseIdentityHeaders },
  { key: 'identityJwtKeyFile', flag: 'identity-jwt-key-file', env: 'IDENTITY_JWT_KEY_FILE', defaultText: '(none)', help: 'Private key (PEM, JWK or JWKS) to sign a short-lived identity JWT for backends; reloaded on change. JWKS on the admin port.', parse: (r) => r.trim() },
  { key: 'identityJwtKey', flag: 'identity-jwt-key', env: 'IDENTITY_JWT_KEY', defaultText: '(none)', secret: true, help: 'The identity JWT signing key itself (PEM or JWK): environment or config file only.', parse: (r) => r },
  { key: 'identityJwtAudience', flag: 'identity-jwt-audience', env: 'IDENTITY_JWT_AUDIENCE', defaultText: 'mcp-backend', help: '`aud` of the identity JWT.', parse: (r) => r.trim() },
  { key: 'identityJwtTtlMs', flag: 'identity-jwt-ttl', env: 'IDENTITY_JWT_TTL', defaultText: '60s', help: 'Lifetime of an identity JWT.', parse: (r) => boundedDuration(r, 60 * 60_000, 1000) },
  { key: 'logLevel', flag: 'log-level', env: 'LOG_LEVEL', defaultText: 'info', help: `Log level: ${LOG_LEVELS.join(', ')}.`, parse: (r) => parseEnum(r, LOG_LEVELS) },
  {
    key: 'sessionRecovery',
    flag: 'session-recovery',
    env: 'SESSION_RECOVERY',
    defaultText: 'true',
    boolean: true,
    help: 'A session no replica knows (store restarted empty, gateway restarted) is looked for on the backends with a ping before answering 404.',
    parse: parseBoolean,
  },
  {
    key: 'sessionRecoveryTimeoutMs',
    flag: 'session-recovery-timeout',
    env: 'SESSION_RECOVERY_TIMEOUT',
    defaultText: '1s',
    help: 'Longest wait for one backend\'s answer to a recovery ping.',
    parse: nonZeroDuration,
  },
  {
    key: 'sessionRecoveryIdentity',
    flag: 'session-recovery-identity',
    env: 'SESSION_RECOVERY_IDENTITY',
    defaultText: 'false',
    boolean: true,
    help:
      "Auth on: also recover a session whose creator no replica knows, when its backend confirms the caller. The recovery ping carries the caller's identity headers; a 200 re-binds the session to the caller. Only for backends that answer 404 to a session's requests from anyone but its creator; off, such sessions answer 404.",
    parse: parseBoolean,
  },
  {
    key: 'sessionResume',
    flag: 'session-resume',
    env: 'SESSION_RESUME',
    defaultText: 'off',
    help:
      "A session whose backend is proven lost: off answers 404 (the client must initialize again); reinitialize opens a new session on a live backend with the client's recorded initialize, keeps the client's Mcp-Session-Id, replays logging/setLevel and resources/subscribe, and re-sends the request only when that is safe. Server-side state the lost backend kept in memory is not carried over.",
    parse: (r) => parseEnum(r, SESSION_RESUME_MODES),
  },
  {
    key: 'metricsToolLimit',
    flag: 'metrics-tool-limit',
    env: 'METRICS_TOOL_LIMIT',
    defaultText: '50',
    help: 'Tool names not listed by any backend\'s tools/list that still get their own `tool` label (first seen); the rest are `other`.',
    parse: (r) => parseInteger(r, 0, 10_000),
  },
  { key: 'tracing', flag: 'tracing', env: 'TRACING', defaultText: 'false', boolean: true, help: 'Export OpenTelemetry traces over OTLP/HTTP (W3C traceparent goes to backends).', parse: parseBoolean },
  {
    key: 'otlpEndpoint',
    flag: 'otlp-endpoint',
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    defaultText: 'http://127.0.0.1:4318',
    help: 'OTLP/HTTP collector base URL; spans go to <url>/v1/traces.',
    parse: (r) => parseHttpUrl(r, 'OTLP endpoint').href,
  },
  {
    key: 'tracingSampleRatio',
    flag: 'tracing-sample-ratio',
    env: 'TRACING_SAMPLE_RATIO',
    defaultText: '1',
    help: 'Share of new traces sampled, 0 to 1 (a sampled parent from the client is always followed).',
    parse: (r) => {
      const n = Number(r);
      if (r.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new ValueError(`expected a number from 0 to 1, got '${r}'`);
      return n;
    },
  },
  { key: 'serviceName', flag: 'service-name', env: 'OTEL_SERVICE_NAME', defaultText: 'mcp-session-gateway', help: 'service.name of exported traces.', parse: (r) => r.trim() },
];

/** Defaults as raw text, so that they go through the same parsers as user input. */
export function defaultRawValues(): Map<keyof GatewayConfig, string> {
  const out = new Map<keyof GatewayConfig, string>();
  for (const o of OPTIONS) {
    if (!o.defaultText.startsWith('(')) out.set(o.key, o.defaultText);
  }
  return out;
}
