// Static API keys for simple deployments, presented as bearer tokens. Only SHA-256 digests are configured
// and kept, so a leaked key file or environment grants nothing. Keys must be random (>= 128 bits); for
// those a plain digest is as good as a slow password hash, and a lookup by digest leaks nothing useful
// through timing (finding a key from its digest's prefix is a preimage problem).
//
// Format (file, or AUTH_API_KEYS with `;` between entries):   <key id> sha256:<64 hex digits> [scope ...]
// Blank lines and lines starting with # are ignored. Generate a key and its line with, e.g.:
//   key=$(openssl rand -hex 32); printf 'ci-bot sha256:%s mcp:tools\n' "$(printf %s "$key" | sha256sum | cut -d' ' -f1)"
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { parseScopes } from '../config/auth.ts';
import { AuthFailure, principalOfIdentity, type CredentialVerifier, type Identity } from './identity.ts';
import { WatchedFile } from './watched-file.ts';

export interface ApiKeyEntry {
  id: string;
  scopes: string[];
}

/** digest (hex) -> entry. Throws with the line number on the first bad line. */
export function parseApiKeys(text: string, separator: RegExp = /\r?\n/): Map<string, ApiKeyEntry> {
  const out = new Map<string, ApiKeyEntry>();
  const ids = new Set<string>();
  text.split(separator).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [id, digest, ...scopeParts] = line.split(/\s+/);
    const m = /^sha256:([0-9a-fA-F]{64})$/.exec(digest ?? '');
    if (!id || !m) throw new Error(`entry ${i + 1}: expected '<key id> sha256:<64 hex digits> [scope ...]' (keys are configured by digest, never in clear)`);
    if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(id)) throw new Error(`entry ${i + 1}: key id may hold letters, digits and . _ : @ - only`);
    if (ids.has(id)) throw new Error(`entry ${i + 1}: key id '${id}' is listed twice`);
    ids.add(id);
    out.set((m[1] as string).toLowerCase(), { id, scopes: parseScopes(scopeParts.join(' ')) });
  });
  return out;
}

export interface ApiKeyOptions {
  /** Entries from the environment (fixed for the process's life). */
  inline: string | undefined;
  /** A file, re-read when it changes (rotation without restart). */
  file: string | undefined;
  reloadIntervalMs: number;
  logger: Logger;
}

export class ApiKeyVerifier implements CredentialVerifier {
  readonly #inline: Map<string, ApiKeyEntry>;
  readonly #file: WatchedFile<Map<string, ApiKeyEntry>> | undefined;

  constructor(o: ApiKeyOptions) {
    try {
      this.#inline = o.inline ? parseApiKeys(o.inline, /[;\r\n]+/) : new Map();
    } catch (err) {
      throw new Error(`AUTH_API_KEYS: ${(err as Error).message}`, { cause: err });
    }
    this.#file = o.file
      ? new WatchedFile({ path: o.file, what: 'API key file', parse: (t) => parseApiKeys(t), intervalMs: o.reloadIntervalMs, logger: o.logger })
      : undefined;
    o.logger.info({ inline: this.#inline.size, file: this.#file?.value.size ?? 0 }, 'API keys loaded');
  }

  async verify(token: string): Promise<Identity> {
    const digest = createHash('sha256').update(token).digest('hex');
    const entry = this.#file?.value.get(digest) ?? this.#inline.get(digest);
    if (!entry) throw new AuthFailure('unknown_api_key', 'the API key is not known');
    return {
      kind: 'api-key',
      issuer: undefined,
      subject: entry.id,
      clientId: entry.id,
      scopes: new Set(entry.scopes),
      principal: principalOfIdentity(undefined, entry.id, 'api-key'),
      expiresAt: undefined,
    };
  }

  /** Re-reads the key file now if it changed (tests; otherwise it is polled). */
  reload(): Promise<boolean> {
    return this.#file?.check() ?? Promise.resolve(false);
  }

  async close(): Promise<void> {
    this.#file?.close();
  }
}
