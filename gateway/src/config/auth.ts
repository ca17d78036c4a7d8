// Parsers and cross-checks for the auth options (the rows themselves are in options.ts, the one table).
// Each parser throws a ValueError that says what was expected; load.ts names the option.
import { parseHttpUrl, parseList, ValueError } from './values.ts';

export const AUTH_MODES = ['none', 'jwt', 'introspection', 'api-key'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/**
 * Asymmetric JWS algorithms only (RFC 7518 §3.1, RFC 8037): `none` would accept unsigned tokens, and an HMAC
 * algorithm verified with a public key lets anyone who has that (public) key mint tokens.
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function parseScopes(raw: string): string[] {
  const scopes = raw.split(/[\s,]+/).filter((s) => s.length > 0);
  for (const s of scopes) if (!SCOPE_TOKEN.test(s)) throw new ValueError(`'${s}' is not a valid OAuth scope (RFC 6749 §3.3)`);
  return [...new Set(scopes)];
}

export function parseAlgorithms(raw: string): string[] {
  const algs = parseList(raw);
  if (algs.length === 0) throw new ValueError('expected at least one algorithm');
  for (const a of algs) {
    if (a.toLowerCase() === 'none') throw new ValueError("'none' is never accepted: it means an unsigned token");
    if (/^HS\d+$/i.test(a)) throw new ValueError(`${a} is refused: an HMAC key shared with the issuer would let it be verified with a public key`);
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a)) throw new ValueError(`expected algorithms from ${ASYMMETRIC_ALGORITHMS.join(', ')}, got '${a}'`);
  }
  return [...new Set(algs)];
}

/** A scope requirement for one JSON-RPC method, or for one named tool (prompt, …) of it. */
export interface ScopeRule {
  method: string;
  /** params.name, e.g. the tool of a tools/call; undefined = every call of the method. */
  name: string | undefined;
  scopes: string[];
}

/** `tools/call=mcp:tools,tools/call:deploy=deploy:write ops`: entries by comma, scopes by space. */
export function parseScopeRules(raw: string): ScopeRule[] {
  const rules: ScopeRule[] = [];
  for (const entry of parseList(raw)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ValueError(`expected method[:name]=scope [scope...], got '${entry}'`);
    const selector = entry.slice(0, eq).trim();
    const colon = selector.indexOf(':');
    const method = colon < 0 ? selector : selector.slice(0, colon);
    const name = colon < 0 ? undefined : selector.slice(colon + 1);
    if (!/^[A-Za-z0-9_/.-]+$/.test(method)) throw new ValueError(`'${method}' is not a JSON-RPC method name`);
    if (name !== undefined && name.length === 0) throw new ValueError(`empty name after ':' in '${entry}'`);
    const scopes = parseScopes(entry.slice(eq + 1).replace(/,/g, ' '));
    if (scopes.length === 0) throw new ValueError(`no scope given for '${selector}'`);
    rules.push({ method, name, scopes });
  }
  return rules;
}

export const IDENTITY_FIELDS = ['subject', 'client_id', 'scopes', 'issuer', 'jwt'] as const;
export type IdentityField = (typeof IDENTITY_FIELDS)[number];
export type IdentityHeaderNames = Partial<Record<IdentityField, string>>;

export const DEFAULT_IDENTITY_HEADERS = 'subject=x-auth-subject,client_id=x-auth-client-id,scopes=x-auth-scopes,issuer=x-auth-issuer,jwt=x-auth-identity';

/** Headers the gateway itself owns on the way up; an identity header may not take one of these names. */
const RESERVED_HEADERS = new Set(['authorization', 'host', 'content-length', 'content-type', 'accept', 'connection', 'cookie', 'forwarded', 'last-event-id']);

export function parseIdentityHeaders(raw: string): IdentityHeaderNames {
  if (raw.trim() === 'none') return {};
  const out: IdentityHeaderNames = {};
  const used = new Set<string>();
  for (const entry of parseList(raw)) {
    const [field, header, ...rest] = entry.split('=').map((s) => s.trim());
    if (!field || !header || rest.length > 0 || !(IDENTITY_FIELDS as readonly string[]).includes(field)) {
      throw new ValueError(`expected field=header-name with field one of ${IDENTITY_FIELDS.join(', ')} (or 'none'), got '${entry}'`);
    }
    const name = header.toLowerCase();
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new ValueError(`'${header}' is not an HTTP header name`);
    if (RESERVED_HEADERS.has(name) || name.startsWith('mcp-') || name.startsWith('x-forwarded-')) {
      throw new ValueError(`'${header}' is a header the gateway or MCP already uses`);
    }
    if (used.has(name)) throw new ValueError(`header '${header}' is given to two fields`);
    used.add(name);
    out[field as IdentityField] = name;
  }
  return out;
}

/** RFC 8707 §2: an absolute URI without a fragment (and, SHOULD NOT, without a query). Kept as written. */
export function parseResourceUrl(raw: string): string {
  const url = parseHttpUrl(raw, 'resource URL');
  if (url.search) throw new ValueError(`a resource URL should not carry a query (RFC 8707 §2): '${raw}'`);
  return raw.trim();
}

/** RFC 8414 §2: an https URL without query or fragment (http allowed for loopback and tests). Kept as written. */
export function parseIssuer(raw: string): string {
  const url = parseHttpUrl(raw, 'issuer URL');
  if (url.search) throw new ValueError(`an issuer identifier has no query (RFC 8414 §2): '${raw}'`);
  return raw.trim();
}

/** The auth part of the configuration, as config/options.ts parses it. */
export interface AuthConfig {
  auth: AuthMode;
  resourceUrl: string | undefined;
  authIssuer: string | undefined;
  authJwksUrl: URL | undefined;
  authAudience: string[] | undefined;
  authRequiredScopes: string[] | undefined;
  authMethodScopes: ScopeRule[] | undefined;
  authAlgorithms: string[];
  authClockSkewMs: number;
  authJwksCooldownMs: number;
  authJwksMaxAgeMs: number;
  authIntrospectionUrl: URL | undefined;
  authClientId: string | undefined;
  authClientSecret: string | undefined;
  authClientSecretFile: string | undefined;
  authIntrospectionCacheMs: number;
  authApiKeys: string | undefined;
  authApiKeysFile: string | undefined;
  identityHeaders: IdentityHeaderNames;
  identityJwtKey: string | undefined;
  identityJwtKeyFile: string | undefined;
  identityJwtAudience: string;
  identityJwtTtlMs: number;
}

/** Rules between auth options; every message names the option(s) it is about. */
export function authProblems(c: AuthConfig): string[] {
  const p: string[] = [];
  const on = c.auth !== 'none';
  if (on && !c.resourceUrl) {
    p.push(`--resource-url (RESOURCE_URL): required with --auth ${c.auth}: it is the audience tokens must carry (RFC 8707) and the resource of the protected resource metadata (RFC 9728)`);
  }
  if (c.auth === 'jwt' && !c.authIssuer && !c.authJwksUrl) {
    p.push('--auth-issuer (AUTH_ISSUER) or --auth-jwks-url (AUTH_JWKS_URL): --auth jwt needs one of them to find the signing keys');
  }
  if (c.auth === 'introspection') {
    if (!c.authIntrospectionUrl) p.push('--auth-introspection-url (AUTH_INTROSPECTION_URL): required with --auth introspection');
    if (!c.authClientId) p.push('--auth-client-id (AUTH_CLIENT_ID): required with --auth introspection (RFC 7662 §2.1: the resource server authenticates)');
    if (!c.authClientSecret && !c.authClientSecretFile) {
      p.push('AUTH_CLIENT_SECRET or --auth-client-secret-file (AUTH_CLIENT_SECRET_FILE): --auth introspection needs the client secret');
    }
  }
  if (c.authClientSecret && c.authClientSecretFile) {
    p.push('AUTH_CLIENT_SECRET and --auth-client-secret-file (AUTH_CLIENT_SECRET_FILE): give the secret one way only');
  }
  if (c.auth === 'api-key' && !c.authApiKeys && !c.authApiKeysFile) {
    p.push('--auth-api-keys-file (AUTH_API_KEYS_FILE) or AUTH_API_KEYS: --auth api-key needs at least one key');
  }
  if (c.identityJwtKey && c.identityJwtKeyFile) {
    p.push('IDENTITY_JWT_KEY and --identity-jwt-key-file (IDENTITY_JWT_KEY_FILE): give the signing key one way only');
  }
  if (!on) {
    const needsAuth: Array<[boolean, string]> = [
      [(c.authRequiredScopes?.length ?? 0) > 0, '--auth-required-scopes (AUTH_REQUIRED_SCOPES)'],
      [(c.authMethodScopes?.length ?? 0) > 0, '--auth-method-scopes (AUTH_METHOD_SCOPES)'],
      [Boolean(c.identityJwtKey || c.identityJwtKeyFile), '--identity-jwt-key-file (IDENTITY_JWT_KEY_FILE) / IDENTITY_JWT_KEY'],
    ];
    for (const [set, name] of needsAuth) if (set) p.push(`${name}: has no effect with --auth none; set --auth`);
  }
  return p;
}
