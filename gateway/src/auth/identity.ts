// What a verified credential says about its holder, whatever the kind of credential, and the failure type
// every verifier throws. A verifier never logs or keeps the token itself.
import type { AuthFailureReason } from '../metrics/labels.ts';

export type CredentialKind = 'jwt' | 'introspection' | 'api-key';

export interface Identity {
  kind: CredentialKind;
  /** Issuer of the credential (the authorization server); undefined for API keys. */
  issuer: string | undefined;
  /** `sub`, or the client id for tokens without a resource owner (client credentials), or the API key id. */
  subject: string;
  clientId: string | undefined;
  scopes: ReadonlySet<string>;
  /**
   * The stable name a session is bound to (DESIGN.md "Request flow"): issuer + subject, so that the same
   * `sub` at two issuers are two principals. Issuer identifiers hold no spaces (RFC 8414 §2: a URL), so
   * the first space splits it unambiguously.
   */
  principal: string;
  /** exp as epoch milliseconds, when the credential says. */
  expiresAt: number | undefined;
}

export function principalOfIdentity(issuer: string | undefined, subject: string, kind: CredentialKind): string {
  return kind === 'api-key' ? `api-key ${subject}` : `${issuer ?? ''} ${subject}`;
}

/** A credential that was refused; `reason` is a bounded metric label, `description` a fixed text. */
export class AuthFailure extends Error {
  readonly reason: AuthFailureReason;
  constructor(reason: AuthFailureReason, description: string) {
    super(description);
    this.name = 'AuthFailure';
    this.reason = reason;
  }
}

/** The authorization server (JWKS, metadata, introspection) could not be asked: 503, not 401. */
export class AuthUnavailable extends Error {
  constructor(what: string, options?: { cause?: unknown }) {
    super(what, options);
    this.name = 'AuthUnavailable';
  }
}

/** Something that turns a bearer credential into an identity, or throws AuthFailure / AuthUnavailable. */
export interface CredentialVerifier {
  verify(token: string): Promise<Identity>;
  /**
   * A verification of this token that is still valid, found without waiting (no promise): what a client that
   * reuses its token meets on every request after the first. Undefined when the token must be judged by `verify`.
   */
  cached?(token: string): Identity | undefined;
  close(): Promise<void>;
}

/** `scope` (RFC 9068 §2.2.3, RFC 7662 §2.2: space-separated) or `scp` (an array, as some issuers send). */
export function scopesFromClaims(claims: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  if (typeof claims.scope === 'string') for (const s of claims.scope.split(' ')) if (s) out.add(s);
  const scp: unknown = claims.scp;
  const listed = Array.isArray(scp) ? scp : typeof scp === 'string' ? scp.split(' ') : [];
  for (const s of listed) if (typeof s === 'string' && s) out.add(s);
  return out;
}

export function missingScopes(granted: ReadonlySet<string>, required: readonly string[]): string[] {
  return required.filter((s) => !granted.has(s));
}
