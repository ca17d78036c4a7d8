// Builds the auth layer from the configuration (gateway.ts calls this once; AuthGuard.close() ends it).
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/options.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import { discoverJwksUri } from './as-metadata.ts';
import { ApiKeyVerifier } from './api-keys.ts';
import { AuthGuard } from './guard.ts';
import type { CredentialVerifier } from './identity.ts';
import { IdentitySigner } from './identity-jwt.ts';
import { IntrospectionVerifier } from './introspection.ts';
import { RemoteKeySet } from './jwks.ts';
import { JwtVerifier } from './jwt-verifier.ts';
import { protectedResourceMetadata } from './protected-resource.ts';
import { ScopePolicy } from './scope-policy.ts';
import { VerifiedCache } from './verified-cache.ts';
import { WatchedFile } from './watched-file.ts';

/** How often key and secret files are checked for changes. */
const FILE_RELOAD_MS = 2000;
/** Longest reuse of a JWT's verification (verified-cache.ts). */
const VERIFIED_JWT_MAX_AGE_MS = 60_000;
/** Longest wait for the authorization server (metadata, JWKS, introspection). */
const AS_TIMEOUT_MS = 5000;

export function createAuthGuard(config: GatewayConfig, deps: { metrics: GatewayMetrics; logger: Logger }): AuthGuard {
  const logger = deps.logger.child({ component: 'auth' });
  const resourceUrl = config.resourceUrl as string;
  const audiences = config.authAudience ?? [resourceUrl];
  const required = config.authRequiredScopes ?? [];
  const policy = new ScopePolicy(required, config.authMethodScopes ?? []);
  const closeables: Array<{ close(): void }> = [];
  let verifier: CredentialVerifier | undefined;
  switch (config.auth) {
    case 'none':
      break;
    case 'jwt': {
      const keys = jwksOf(config, logger, () => cache.clear());
      const cache = new VerifiedCache(
        new JwtVerifier({ issuer: config.authIssuer, audiences, algorithms: config.authAlgorithms, clockSkewMs: config.authClockSkewMs, keys }),
        { maxAgeMs: VERIFIED_JWT_MAX_AGE_MS },
      );
      verifier = cache;
      break;
    }
    case 'introspection':
      verifier = new IntrospectionVerifier({
        url: config.authIntrospectionUrl as URL,
        clientId: config.authClientId as string,
        clientSecret: clientSecretOf(config, logger, closeables),
        issuer: config.authIssuer,
        audiences,
        clockSkewMs: config.authClockSkewMs,
        cacheMs: config.authIntrospectionCacheMs,
        timeoutMs: AS_TIMEOUT_MS,
      });
      break;
    case 'api-key':
      verifier = new ApiKeyVerifier({ inline: config.authApiKeys, file: config.authApiKeysFile, reloadIntervalMs: FILE_RELOAD_MS, logger });
      break;
  }
  const signer =
    verifier && (config.identityJwtKey || config.identityJwtKeyFile)
      ? new IdentitySigner({
          ...(config.identityJwtKey ? { inline: config.identityJwtKey } : {}),
          ...(config.identityJwtKeyFile ? { file: { path: config.identityJwtKeyFile, reloadIntervalMs: FILE_RELOAD_MS } } : {}),
          issuer: resourceUrl,
          audience: config.identityJwtAudience,
          ttlMs: config.identityJwtTtlMs,
          logger,
        })
      : undefined;
  if (verifier) logger.info({ auth: config.auth, resource: resourceUrl, issuer: config.authIssuer, audiences, identityJwt: Boolean(signer) }, 'auth on');
  return new AuthGuard({
    verifier,
    policy,
    identityHeaders: config.identityHeaders,
    signer,
    resource: verifier
      ? { url: resourceUrl, mcpPath: config.mcpPath, document: protectedResourceMetadata({ resource: resourceUrl, issuer: config.authIssuer, scopes: required }) }
      : undefined,
    closeables,
    metrics: deps.metrics,
  });
}

function jwksOf(config: GatewayConfig, logger: Logger, onChange: () => void): RemoteKeySet {
  let located: Promise<URL> | undefined;
  const locate = () => {
    if (config.authJwksUrl) return Promise.resolve(config.authJwksUrl);
    // Found once; a failed discovery is retried on the next fetch attempt (which the cooldown paces).
    located ??= discoverJwksUri(config.authIssuer as string, AS_TIMEOUT_MS).catch((err: unknown) => {
      located = undefined;
      throw err;
    });
    return located;
  };
  return new RemoteKeySet({ locate, cooldownMs: config.authJwksCooldownMs, maxAgeMs: config.authJwksMaxAgeMs, timeoutMs: AS_TIMEOUT_MS, logger, onChange });
}

function clientSecretOf(config: GatewayConfig, logger: Logger, closeables: Array<{ close(): void }>): () => string {
  if (config.authClientSecret !== undefined) {
    const secret = config.authClientSecret;
    return () => secret;
  }
  const parse = (text: string) => {
    const s = text.replace(/\r?\n$/, '');
    if (s === '') throw new Error('the file is empty');
    return s;
  };
  // Read now (a missing file stops the start), re-read when it changes (secret rotation).
  const file = new WatchedFile({ path: config.authClientSecretFile as string, what: 'introspection client secret file', parse, intervalMs: FILE_RELOAD_MS, logger });
  closeables.push(file);
  return () => file.value;
}
