// Opaque access tokens through OAuth 2.0 Token Introspection (RFC 7662). The gateway authenticates as a
// client (§2.1, HTTP Basic per RFC 6749 §2.3.1) and applies the same rules as to a JWT: active, issuer,
// audience (RFC 8707), exp/nbf. Answers are cached by a hash of the token, never past the token's `exp`
// nor longer than the configured time, so a revocation takes effect within that time.
import { createHash } from 'node:crypto';
import { AuthFailure, AuthUnavailable, principalOfIdentity, scopesFromClaims, type CredentialVerifier, type Identity } from './identity.ts';

export interface IntrospectionOptions {
  url: URL;
  clientId: string;
  clientSecret: () => string;
  issuer: string | undefined;
  audiences: string[];
  clockSkewMs: number;
  cacheMs: number;
  timeoutMs: number;
  /** Most answers kept; the oldest go first. */
  maxEntries?: number;
}

type Outcome = { ok: true; identity: Identity } | { ok: false; failure: AuthFailure };

export class IntrospectionVerifier implements CredentialVerifier {
  readonly #o: IntrospectionOptions;
  readonly #cache = new Map<string, { outcome: Outcome; until: number }>();
  readonly #inFlight = new Map<string, Promise<Outcome>>();
  /** Requests made to the introspection endpoint. */
  calls = 0;

  constructor(options: IntrospectionOptions) {
    this.#o = options;
  }

  async verify(token: string): Promise<Identity> {
    const key = createHash('sha256').update(token).digest('base64url');
    const now = Date.now();
    const hit = this.#cache.get(key);
    let outcome: Outcome;
    if (hit && hit.until > now) outcome = hit.outcome;
    else {
      if (hit) this.#cache.delete(key);
      let pending = this.#inFlight.get(key);
      if (!pending) {
        pending = this.#introspect(token).finally(() => this.#inFlight.delete(key));
        this.#inFlight.set(key, pending);
      }
      outcome = await pending;
      this.#remember(key, outcome);
    }
    if (!outcome.ok) throw outcome.failure;
    // A cached answer is checked against the clock again: it may have expired since.
    if (outcome.identity.expiresAt !== undefined && outcome.identity.expiresAt + this.#o.clockSkewMs <= Date.now()) {
      throw new AuthFailure('expired', 'the token has expired');
    }
    return outcome.identity;
  }

  async close(): Promise<void> {
    this.#cache.clear();
  }

  #remember(key: string, outcome: Outcome): void {
    if (this.#o.cacheMs <= 0) return;
    const limit = outcome.ok && outcome.identity.expiresAt !== undefined ? outcome.identity.expiresAt : Infinity;
    const until = Math.min(Date.now() + this.#o.cacheMs, limit);
    if (until <= Date.now()) return;
    this.#cache.set(key, { outcome, until });
    const max = this.#o.maxEntries ?? 10_000;
    while (this.#cache.size > max) this.#cache.delete(this.#cache.keys().next().value as string);
  }

  async #introspect(token: string): Promise<Outcome> {
    const basic = Buffer.from(`${encodeURIComponent(this.#o.clientId)}:${encodeURIComponent(this.#o.clientSecret())}`).toString('base64');
    let body: unknown;
    try {
      this.calls++;
      const res = await fetch(this.#o.url, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      if (res.status === 400) {
        // The server refuses to introspect this token (e.g. a JWT at an endpoint for opaque tokens): our
        // request is well formed, so the token is what is wrong. 401/403/5xx are our or its trouble: 503.
        await res.body?.cancel();
        return { ok: false, failure: new AuthFailure('inactive', 'the authorization server does not accept this token') };
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new AuthUnavailable(`the introspection endpoint answered ${res.status}`);
      }
      body = await res.json();
    } catch (err) {
      throw err instanceof AuthUnavailable ? err : new AuthUnavailable('the introspection endpoint could not be reached', { cause: err });
    }
    if (typeof body !== 'object' || body === null || typeof (body as { active?: unknown }).active !== 'boolean') {
      throw new AuthUnavailable('the introspection endpoint answered without a boolean "active"');
    }
    try {
      return { ok: true, identity: this.#identityOf(body as Record<string, unknown>) };
    } catch (err) {
      if (err instanceof AuthFailure) return { ok: false, failure: err };
      throw err;
    }
  }

  #identityOf(r: Record<string, unknown>): Identity {
    if (r.active !== true) throw new AuthFailure('inactive', 'the token is not active (revoked, expired or unknown)');
    // RFC 7662 §2.2 token_type; a refresh token or a DPoP token is no bearer access token.
    if (r.token_type !== undefined && !/^(bearer|access_token)$/i.test(String(r.token_type))) {
      throw new AuthFailure('inactive', 'the token is not a bearer access token');
    }
    if (r.cnf !== undefined) throw new AuthFailure('sender_constrained', 'the token is bound to a key (cnf) and cannot be used as a bearer token');
    const now = Date.now();
    if (typeof r.exp === 'number' && r.exp * 1000 + this.#o.clockSkewMs <= now) throw new AuthFailure('expired', 'the token has expired');
    if (typeof r.nbf === 'number' && r.nbf * 1000 - this.#o.clockSkewMs > now) throw new AuthFailure('not_yet_valid', 'the token is not valid yet (nbf)');
    const iss = typeof r.iss === 'string' ? r.iss : undefined;
    if (this.#o.issuer !== undefined && iss !== undefined && iss !== this.#o.issuer) throw new AuthFailure('wrong_issuer', 'the token was issued by another issuer');
    // The MCP spec: a resource server MUST only accept tokens issued for it. No audience, no acceptance.
    const aud = Array.isArray(r.aud) ? r.aud : typeof r.aud === 'string' ? [r.aud] : [];
    if (!aud.some((a) => this.#o.audiences.includes(a as string))) throw new AuthFailure('wrong_audience', 'the token was not issued for this resource (aud)');
    const clientId = typeof r.client_id === 'string' ? r.client_id : undefined;
    const subject = typeof r.sub === 'string' && r.sub !== '' ? r.sub : clientId;
    if (subject === undefined) throw new AuthFailure('missing_claim', 'the token names no subject (sub) or client (client_id)');
    const issuer = this.#o.issuer ?? iss ?? this.#o.url.origin;
    return {
      kind: 'introspection',
      issuer,
      subject,
      clientId,
      scopes: scopesFromClaims(r),
      principal: principalOfIdentity(issuer, subject, 'introspection'),
      expiresAt: typeof r.exp === 'number' ? r.exp * 1000 : undefined,
    };
  }
}
