// Reads the configuration from (lowest to highest precedence) defaults, a JSON config file, environment
// variables and command-line flags; validates all of it and reports every problem at once, each naming the
// option by flag and environment variable.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { authProblems } from './auth.ts';
import { defaultRawValues, OPTIONS, type GatewayConfig, type OptionSpec } from './options.ts';
import { ValueError } from './values.ts';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

export type CliRequest = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: GatewayConfig };

const CONFIG_FLAG = 'config';
const CONFIG_ENV = 'CONFIG_FILE';

function label(o: OptionSpec): string {
  return `--${o.flag} (${o.env})`;
}

/** Flattens a config-file value to the text form the parsers take. */
function fileValueToRaw(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v.map((x) => String(x)).join(',');
  if (typeof v === 'object') return undefined;
  return String(v);
}

function readConfigFile(path: string, problems: string[]): Map<string, string> {
  const out = new Map<string, string>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`--${CONFIG_FLAG} (${CONFIG_ENV}): cannot read ${path} as JSON: ${(err as Error).message}`);
    return out;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`--${CONFIG_FLAG} (${CONFIG_ENV}): ${path} must hold a JSON object keyed by flag name`);
    return out;
  }
  const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]));
  for (const [k, v] of Object.entries(parsed)) {
    const opt = byFlag.get(k);
    if (!opt) {
      problems.push(`${path}: unknown option '${k}' (keys are flag names, e.g. "redis-url")`);
      continue;
    }
    const raw = fileValueToRaw(v);
    if (raw === undefined) problems.push(`${path}: ${label(opt)}: expected a string, number, boolean or array`);
    else out.set(opt.flag, raw);
  }
  return out;
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): CliRequest {
  const parseOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
    [CONFIG_FLAG]: { type: 'string' },
  };
  for (const o of OPTIONS) parseOptions[o.flag] = { type: o.boolean ? 'boolean' : 'string' };

  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: parseOptions, strict: true, allowPositionals: false, allowNegative: true }) as {
      values: Record<string, string | boolean | undefined>;
    });
  } catch (err) {
    throw new ConfigError([`${(err as Error).message}; see --help`]);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const problems: string[] = [];
  const raw = new Map<keyof GatewayConfig, string>(defaultRawValues());
  const configPath = (values[CONFIG_FLAG] as string | undefined) ?? env[CONFIG_ENV];
  const fromFile = configPath ? readConfigFile(configPath, problems) : new Map<string, string>();

  for (const o of OPTIONS) {
    const flagValue = values[o.flag];
    const envValue = env[o.env];
    if (flagValue !== undefined && o.secret) {
      // Command lines are readable by every user of the host (ps, /proc): secrets come another way.
      problems.push(`${label(o)}: a secret is not taken from the command line (ps shows it); set ${o.env} or put it in the config file`);
    } else if (flagValue !== undefined) raw.set(o.key, String(flagValue));
    else if (envValue !== undefined && envValue !== '') raw.set(o.key, envValue);
    else if (fromFile.has(o.flag)) raw.set(o.key, fromFile.get(o.flag) as string);
  }

  const config: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    const text = raw.get(o.key);
    if (text === undefined) {
      config[o.key] = ['backends', 'redisSentinels', 'allowedHosts', 'allowedOrigins'].includes(o.key) ? [] : undefined;
      continue;
    }
    try {
      config[o.key] = o.parse(text);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push(`${label(o)}: ${err.message}`);
    }
  }
  if (problems.length === 0) problems.push(...crossCheck(config as unknown as GatewayConfig));
  if (problems.length > 0) throw new ConfigError(problems);
  return { kind: 'run', config: Object.freeze(config) as unknown as GatewayConfig };
}

/** Rules that involve more than one option. */
function crossCheck(c: GatewayConfig): string[] {
  const problems: string[] = [];
  if (c.discovery === 'static' && c.backends.length === 0) {
    problems.push('--backends (MCP_BACKENDS): static discovery needs at least one backend URL');
  }
  if (c.redisMode === 'sentinel' && c.redisSentinels.length === 0) {
    problems.push('--redis-sentinels (REDIS_SENTINELS): sentinel mode needs at least one sentinel host:port');
  }
  if (c.redisMode !== 'standalone' && c.redisUrl === undefined) {
    problems.push(`--redis-url (REDIS_URL): --redis-mode ${c.redisMode} needs a Redis URL (credentials, TLS, and for cluster a seed node)`);
  }
  if (c.discovery === 'dns' && !c.dnsName) problems.push('--dns-name (DNS_NAME): dns discovery needs the name to resolve');
  if (c.discovery === 'kubernetes' && !c.k8sService) problems.push('--k8s-service (K8S_SERVICE): kubernetes discovery needs the Service to follow');
  // An option of another discovery mode would be silently ignored: say so instead.
  const belongs: Array<[boolean, string, GatewayConfig['discovery']]> = [
    [c.backends.length > 0, '--backends (MCP_BACKENDS)', 'static'],
    [c.dnsName !== undefined, '--dns-name (DNS_NAME)', 'dns'],
    [c.dnsServers !== undefined, '--dns-server (DNS_SERVER)', 'dns'],
    [c.k8sService !== undefined, '--k8s-service (K8S_SERVICE)', 'kubernetes'],
    [c.k8sPort !== undefined, '--k8s-port (K8S_PORT)', 'kubernetes'],
  ];
  for (const [given, option, mode] of belongs) {
    if (given && c.discovery !== mode) problems.push(`${option}: applies to --discovery ${mode} only, not ${c.discovery}`);
  }
  if (c.workers !== undefined && c.workers > 1 && c.redisUrl === undefined) {
    problems.push('--workers (WORKERS): more than one worker needs --redis-url (REDIS_URL): the in-memory store is one per process, so a session made on one worker would be unknown to the others');
  }
  if (c.port !== 0 && c.port === c.adminPort && c.host === c.adminHost) {
    problems.push('--admin-port (ADMIN_PORT): must differ from --port: the admin port never serves MCP');
  }
  problems.push(...authProblems(c));
  if (c.sessionRecoveryIdentity) {
    if (c.auth === 'none') problems.push('--session-recovery-identity (SESSION_RECOVERY_IDENTITY): needs --auth (without auth every session is recoverable already)');
    else if (!c.sessionRecovery) problems.push('--session-recovery-identity (SESSION_RECOVERY_IDENTITY): needs --session-recovery');
    else if (!c.identityHeaders.subject && !c.identityHeaders.jwt) {
      problems.push('--session-recovery-identity (SESSION_RECOVERY_IDENTITY): needs an identity header for the backend to check (--identity-headers with subject or jwt)');
    }
  }
  if (c.legacySse) {
    const paths = [c.mcpPath, c.ssePath, c.messagesPath];
    if (new Set(paths).size !== paths.length) {
      problems.push(`--sse-path (SSE_PATH), --messages-path (MESSAGES_PATH): must differ from each other and from --mcp-path, got ${paths.join(', ')}`);
    }
    // Message POSTs are taken anywhere under --messages-path (mcp/legacy-endpoint.ts): '/' would be everything.
    if (c.messagesPath === '/') problems.push("--messages-path (MESSAGES_PATH): must not be '/' (POSTs are taken at every path under it)");
  }
  return problems;
}
