// The auth layer at the MCP edge (DESIGN.md "Request flow", step 2). Every MCP route registers
// `guard.hook` as its onRequest hook (one line in app.ts), which
//  - removes identity headers the client sent (always, also with auth off);
//  - with auth on: reads the bearer token, verifies it, checks the scopes every request needs, binds the
//    request to its principal (`request.principal`, which the router compares with the session's), and puts
//    the verified identity aside for the configured headers (set on the upstream request after hop-by-hop
//    removal, proxy/headers.ts). Authorization itself never reaches a backend
//    (proxy/headers.ts removes it).
// It runs before the body is read, so a request without a valid token costs no body parsing; its error
// therefore carries `id: null` (JSON-RPC 2.0 §5: the id could not be determined). Method and tool scopes
// need the body: `authorizeOperation`, called by the handler once the body is checked, answers those (and
// echoes the request id).
import type { McpRequest } from '../http/mcp-request.ts';
import type { IdentityHeaderNames } from '../config/auth.ts';
import type { GatewayError } from '../errors.ts';
import type { JsonRpcPeek } from '../mcp/jsonrpc.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import { hasQueryToken, readBearer } from './bearer.ts';
import { authErrors } from './challenge.ts';
import { identityHeaderValues, stripIdentityHeaders } from './identity-headers.ts';
import type { IdentitySigner } from './identity-jwt.ts';
import { AuthFailure, AuthUnavailable, missingScopes, type CredentialVerifier, type Identity } from './identity.ts';
import { metadataRoutes, metadataUrl, type ProtectedResourceMetadata, type SimpleRoute } from './protected-resource.ts';
import { operationsOf, type ScopePolicy } from './scope-policy.ts';

export interface AuthGuardParts {
  /** Undefined with auth off. */
  verifier: CredentialVerifier | undefined;
  policy: ScopePolicy;
  identityHeaders: IdentityHeaderNames;
  signer: IdentitySigner | undefined;
  /** With auth on: the resource and its metadata document. */
  resource: { url: string; mcpPath: string; document: ProtectedResourceMetadata } | undefined;
  /** Other resources to end with the guard (watched files). */
  closeables: Array<{ close(): void }>;
  metrics: GatewayMetrics;
}

const verified = new WeakMap<McpRequest, { guard: AuthGuard; identity: Identity; headers: Readonly<Record<string, string>> }>();

const refusals = new WeakMap<McpRequest, string>();

/** Why the hook refused this request (for its log line), if it did. */
export function authRefusalOf(request: McpRequest): string | undefined {
  return refusals.get(request);
}

/** The identity the hook verified for this request, if any. */
export function identityOf(request: McpRequest): Identity | undefined {
  return verified.get(request)?.identity;
}

/**
 * The identity headers (name -> value) for this request's backend; empty with auth off. proxy/headers.ts
 * sets them after hop-by-hop removal, so nothing the client sends can remove or forge them.
 */
export function identityHeadersOf(request: McpRequest): Readonly<Record<string, string>> {
  return verified.get(request)?.headers ?? {};
}

/** Throws INSUFFICIENT_SCOPE (403, echoing the request id) when the body's methods/tools need more scopes. */
/** `peek` is called only when method or tool rules exist (the body is parsed for nothing else here). */
export function authorizeOperation(request: McpRequest, peek: () => JsonRpcPeek | undefined, body: Buffer | undefined): void {
  const v = verified.get(request);
  if (v) v.guard.checkOperation(request, v.identity, peek, body);
}

export class AuthGuard {
  readonly #p: AuthGuardParts;
  readonly #metadataUrl: string;
  /** Identity headers per verified identity, without an identity JWT (see #headersOf). */
  readonly #headersByIdentity = new WeakMap<Identity, Readonly<Record<string, string>>>();
  #closed = false;

  constructor(parts: AuthGuardParts) {
    this.#p = parts;
    this.#metadataUrl = parts.resource ? metadataUrl(parts.resource.url) : '';
  }

  /**
   * The onRequest hook of every MCP route; refuses with a GatewayError (answered by the app's error handler).
   * Callback style: with auth off (or a preflight) it finishes at once, without a promise per request.
   */
  readonly hook = (request: McpRequest, _reply: unknown, done: (err?: Error) => void): void => {
    stripIdentityHeaders(request.raw.headers, this.#p.identityHeaders);
    // CORS preflights carry no credentials (Fetch standard): they go to the backend as before.
    if (!this.#p.verifier || request.method === 'OPTIONS') return done();
    // The common case without a promise (issue 17): a token this replica verified lately. Anything else,
    // refusals included, takes the full path below.
    if (this.#admitCached(request)) return done();
    this.#verify(request).then(
      () => done(),
      (err: Error) => done(err),
    );
  };

  async #verify(request: McpRequest): Promise<void> {
    const headers = request.raw.headers;
    if (!this.#p.verifier) return;
    try {
      if (hasQueryToken(request.url)) throw new AuthFailure('token_in_query', 'access tokens are not accepted in the query string');
      const bearer = readBearer(headers.authorization);
      if (bearer.kind === 'absent') throw new AuthFailure(bearer.reason, 'a bearer token is required');
      const identity = await this.#p.verifier.verify(bearer.token);
      if (missingScopes(identity.scopes, this.#p.policy.required).length > 0) throw new AuthFailure('insufficient_scope', 'the token lacks a required scope');
      const jwt = this.#p.signer ? await this.#p.signer.sign(identity) : undefined;
      this.#admit(request, identity, jwt);
    } catch (err) {
      throw this.#refuse(request, err);
    }
  }

  /** True when the request's token has a still-valid cached verification that passes (no identity JWT to sign). */
  #admitCached(request: McpRequest): boolean {
    const verifier = this.#p.verifier;
    if (!verifier?.cached || this.#p.signer || request.url.includes('?')) return false;
    let token: string;
    try {
      const bearer = readBearer(request.raw.headers.authorization);
      if (bearer.kind === 'absent') return false;
      token = bearer.token;
    } catch {
      return false; // malformed: refused by the full path, with its reason
    }
    const identity = verifier.cached(token);
    if (!identity || missingScopes(identity.scopes, this.#p.policy.required).length > 0) return false;
    this.#admit(request, identity, undefined);
    return true;
  }

  #admit(request: McpRequest, identity: Identity, jwt: string | undefined): void {
    (request as McpRequest & { principal?: string }).principal = identity.principal;
    verified.set(request, { guard: this, identity, headers: jwt === undefined ? this.#headersOf(identity) : identityHeaderValues(this.#p.identityHeaders, identity, jwt) });
  }

  /**
   * An identity's headers, made once per identity: a cached verification hands back the same Identity for
   * every request with its token. Frozen, as every request of that identity shares them.
   */
  #headersOf(identity: Identity): Readonly<Record<string, string>> {
    let headers = this.#headersByIdentity.get(identity);
    if (!headers) {
      headers = Object.freeze(identityHeaderValues(this.#p.identityHeaders, identity, undefined));
      this.#headersByIdentity.set(identity, headers);
    }
    return headers;
  }

  checkOperation(request: McpRequest, identity: Identity, peekBody: () => JsonRpcPeek | undefined, body: Buffer | undefined): void {
    if (!this.#p.policy.hasRules) return;
    const peek = peekBody();
    const needed = this.#p.policy.scopesFor(operationsOf(peek, body));
    if (missingScopes(identity.scopes, needed).length === 0) return;
    this.#p.metrics.authFailures.inc({ reason: 'insufficient_scope' });
    request.log.debug({ principal: shortPrincipal(identity), needed }, 'request lacks a scope its method or tool needs');
    throw authErrors.insufficientScope(this.#metadataUrl, needed, peek?.id);
  }

  /** The protected resource metadata routes (RFC 9728) for the MCP port; none when auth is off. */
  routes(): SimpleRoute[] {
    const r = this.#p.resource;
    return r ? metadataRoutes({ resourceUrl: r.url, mcpPath: r.mcpPath, document: r.document }) : [];
  }

  /** Public keys of the identity JWT, for the admin port; undefined when no key is configured. */
  identityJwks(): { keys: object[] } | undefined {
    return this.#p.signer?.jwks();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#p.verifier?.close();
    await this.#p.signer?.close();
    for (const c of this.#p.closeables) c.close();
  }

  #refuse(request: McpRequest, err: unknown): unknown {
    const required = this.#p.policy.required;
    let answer: GatewayError;
    let reason: string;
    if (err instanceof AuthFailure) {
      reason = err.reason;
      if (reason === 'missing_token' || reason === 'unsupported_scheme') answer = authErrors.required(this.#metadataUrl, required);
      else if (reason === 'malformed_header' || reason === 'token_in_query') answer = authErrors.invalidRequest(this.#metadataUrl, err.message);
      else if (reason === 'insufficient_scope') answer = authErrors.insufficientScope(this.#metadataUrl, required);
      else answer = authErrors.invalidToken(this.#metadataUrl, err.message, required);
      this.#p.metrics.authFailures.inc({ reason: err.reason });
    } else if (err instanceof AuthUnavailable) {
      reason = 'auth_server_unavailable';
      answer = authErrors.unavailable();
      this.#p.metrics.authFailures.inc({ reason });
      request.log.warn({ err: err.message }, 'token not validated: the authorization server cannot be reached');
    } else {
      return err; // a bug: the app's error handler answers 500 and logs it
    }
    // Answered, counted and logged by the app's error handler (http/exchange.ts, the one place for that).
    refusals.set(request, reason);
    return answer;
  }
}

/** Enough of a principal to correlate log lines; the subject is cut so that logs do not collect identities. */
function shortPrincipal(identity: Identity): string {
  return `${identity.kind}:${identity.subject.slice(0, 4)}…`;
}
