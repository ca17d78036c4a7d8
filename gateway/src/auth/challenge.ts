// The answers of the auth layer: RFC 6750 §3 WWW-Authenticate challenges with the RFC 9728 §5.1
// `resource_metadata` parameter, carried by the gateway's JSON-RPC shaped errors (errors.ts).
import { GatewayError, type JsonRpcId } from '../errors.ts';

export interface ChallengeParams {
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  errorDescription?: string;
  scope?: readonly string[];
  resourceMetadata: string;
}

/** RFC 9110 §5.6.4 quoted-string: backslash-escape `"` and `\`; drop what a header cannot hold. */
function quoted(value: string): string {
  const printable = value.replace(/[^\x20-\x7E]/g, '');
  return `"${printable.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * `Bearer error="…", error_description="…", scope="…", resource_metadata="…"`. Without an error (no token
 * was given) only the scope and resource_metadata appear (RFC 6750 §3: "SHOULD NOT include an error code").
 */
export function bearerChallenge(p: ChallengeParams): string {
  const parts: string[] = [];
  if (p.error) parts.push(`error=${quoted(p.error)}`);
  if (p.error && p.errorDescription) parts.push(`error_description=${quoted(p.errorDescription)}`);
  if (p.scope && p.scope.length > 0) parts.push(`scope=${quoted(p.scope.join(' '))}`);
  parts.push(`resource_metadata=${quoted(p.resourceMetadata)}`);
  return `Bearer ${parts.join(', ')}`;
}

/** The gateway errors of the auth layer, each with its challenge. */
export const authErrors = {
  required(resourceMetadata: string, scope: readonly string[]): GatewayError {
    return new GatewayError('AUTH_REQUIRED', undefined, {
      headers: { 'www-authenticate': bearerChallenge({ scope, resourceMetadata }) },
    });
  },
  invalidRequest(resourceMetadata: string, description: string): GatewayError {
    return new GatewayError('INVALID_AUTH_REQUEST', description, {
      headers: { 'www-authenticate': bearerChallenge({ error: 'invalid_request', errorDescription: description, resourceMetadata }) },
    });
  },
  invalidToken(resourceMetadata: string, description: string, scope: readonly string[]): GatewayError {
    return new GatewayError('INVALID_TOKEN', description, {
      headers: { 'www-authenticate': bearerChallenge({ error: 'invalid_token', errorDescription: description, scope, resourceMetadata }) },
    });
  },
  /** `scope` lists every scope the operation needs, in one challenge (MCP 2026-07-28 "Scope Challenge Handling"). */
  insufficientScope(resourceMetadata: string, scope: readonly string[], rpcId?: JsonRpcId): GatewayError {
    const description = `this request needs the scope${scope.length > 1 ? 's' : ''} ${scope.join(' ')}`;
    return new GatewayError('INSUFFICIENT_SCOPE', description, {
      rpcId,
      headers: { 'www-authenticate': bearerChallenge({ error: 'insufficient_scope', errorDescription: description, scope, resourceMetadata }) },
    });
  },
  unavailable(): GatewayError {
    return new GatewayError('AUTH_UNAVAILABLE');
  },
};
