// Authorization server metadata discovery, for the JWKS location when --auth-jwks-url is not given.
// Well-known URLs in the order of the MCP authorization spec ("Authorization Server Metadata Discovery"):
// RFC 8414 §3.1 (path insertion), then OpenID Connect Discovery 1.0 (insertion, then appending; RFC 8414 §5).
import { AuthUnavailable } from './identity.ts';

export function metadataUrls(issuer: string): URL[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const at = (p: string) => new URL(p, url.origin);
  const urls = [at(`/.well-known/oauth-authorization-server${path}`), at(`/.well-known/openid-configuration${path}`)];
  if (path) urls.push(at(`${path}/.well-known/openid-configuration`));
  return urls;
}

export interface AsMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  [k: string]: unknown;
}

/**
 * The first metadata document whose `issuer` is identical to the configured issuer (RFC 8414 §3.3: one that
 * differs MUST NOT be used). Throws AuthUnavailable when none could be had.
 */
export async function fetchAsMetadata(issuer: string, timeoutMs: number): Promise<AsMetadata> {
  const tried: string[] = [];
  for (const url of metadataUrls(issuer)) {
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
      if (res.status !== 200) {
        await res.body?.cancel();
        tried.push(`${url.href}: ${res.status}`);
        continue;
      }
      const doc = (await res.json()) as unknown;
      if (typeof doc !== 'object' || doc === null || (doc as AsMetadata).issuer !== issuer) {
        tried.push(`${url.href}: issuer does not match`);
        continue;
      }
      return doc as AsMetadata;
    } catch (err) {
      tried.push(`${url.href}: ${(err as Error).name}`);
    }
  }
  throw new AuthUnavailable(`no usable authorization server metadata for ${issuer} (${tried.join('; ')})`);
}

export async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<URL> {
  const doc = await fetchAsMetadata(issuer, timeoutMs);
  if (typeof doc.jwks_uri !== 'string') throw new AuthUnavailable(`the metadata of ${issuer} names no jwks_uri`);
  let url: URL;
  try {
    url = new URL(doc.jwks_uri);
  } catch {
    throw new AuthUnavailable(`the metadata of ${issuer} has an unparsable jwks_uri`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AuthUnavailable(`the jwks_uri of ${issuer} is not http(s)`);
  return url;
}
