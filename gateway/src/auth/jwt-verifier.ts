// JWT access tokens (RFC 9068 profile, as the MCP authorization spec's "Token Handling" asks of a resource
// server; OAuth 2.1 §5.2): signature by a key of the issuer's JWKS with an allowed asymmetric algorithm,
// `iss`, `aud` (RFC 8707: the resource URL unless configured otherwise), `exp`/`nbf` with a small skew.
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { AuthFailure, AuthUnavailable, principalOfIdentity, scopesFromClaims, type CredentialVerifier, type Identity } from './identity.ts';
import type { RemoteKeySet } from './jwks.ts';

export interface JwtVerifierOptions {
  /** Required `iss`; undefined when only a JWKS URL is configured (then any `iss` its keys signed). */
  issuer: string | undefined;
  audiences: string[];
  algorithms: string[];
  clockSkewMs: number;
  keys: RemoteKeySet;
}

export class JwtVerifier implements CredentialVerifier {
  readonly #o: JwtVerifierOptions;

  constructor(options: JwtVerifierOptions) {
    this.#o = options;
  }

  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#o.keys.getKey, {
        // Checked before any key is looked up: `none` and HS* never get as far as a key.
        algorithms: this.#o.algorithms,
        audience: this.#o.audiences,
        clockTolerance: Math.round(this.#o.clockSkewMs / 1000),
        requiredClaims: ['exp'],
        ...(this.#o.issuer !== undefined ? { issuer: this.#o.issuer } : {}),
      }));
    } catch (err) {
      throw asAuthFailure(err);
    }
    return identityOf(payload, this.#o.issuer);
  }

  async close(): Promise<void> {}
}

function identityOf(payload: JWTPayload, configuredIssuer: string | undefined): Identity {
  if (payload.cnf !== undefined) {
    // A sender-constrained token (DPoP, RFC 9449 §7.2; mTLS, RFC 8705) is only valid with its proof.
    throw new AuthFailure('sender_constrained', 'the token is bound to a key (cnf) and cannot be used as a bearer token');
  }
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
  const subject = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : clientId;
  if (subject === undefined) throw new AuthFailure('missing_claim', 'the token names no subject (sub) or client (client_id)');
  const issuer = configuredIssuer ?? (typeof payload.iss === 'string' ? payload.iss : undefined);
  return {
    kind: 'jwt',
    issuer,
    subject,
    clientId,
    scopes: scopesFromClaims(payload),
    principal: principalOfIdentity(issuer, subject, 'jwt'),
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
  };
}

/** jose's errors as bounded reasons; descriptions are our own fixed texts, never token content. */
function asAuthFailure(err: unknown): Error {
  if (err instanceof AuthFailure || err instanceof AuthUnavailable) return err;
  if (err instanceof errors.JWTExpired) return new AuthFailure('expired', 'the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return new AuthFailure('missing_claim', `the token lacks the ${err.claim} claim`);
    switch (err.claim) {
      case 'nbf':
        return new AuthFailure('not_yet_valid', 'the token is not valid yet (nbf)');
      case 'iss':
        return new AuthFailure('wrong_issuer', 'the token was issued by another issuer');
      case 'aud':
        return new AuthFailure('wrong_audience', 'the token was not issued for this resource (aud)');
      default:
        return new AuthFailure('malformed_token', `the token's ${err.claim} claim is not acceptable`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthFailure('disallowed_algorithm', 'the token is signed with an algorithm that is not accepted');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthFailure('bad_signature', 'the token signature does not verify');
  if (err instanceof errors.JWKSNoMatchingKey) return new AuthFailure('unknown_key', 'no known key matches the token');
  // JWSInvalid, JWTInvalid, JOSENotSupported, a key of the wrong type for the alg (TypeError), …
  return new AuthFailure('malformed_token', 'the token is not a well-formed signed JWT');
}
