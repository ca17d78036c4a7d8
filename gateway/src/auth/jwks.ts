// The issuer's signing keys (JWKS), fetched when first needed and cached:
//  - refetched when older than maxAge; a refetch that fails keeps the keys we have (an authorization
//    server outage does not stop tokens signed with known keys from validating);
//  - refetched when a token names an unknown `kid`, so key rotation works without a restart;
//  - at most one fetch attempt (successful or not) per cooldown, and concurrent ones coalesced, so a flood
//    of tokens with made-up `kid`s cannot turn the gateway against the authorization server.
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { AuthFailure, AuthUnavailable } from './identity.ts';

export interface RemoteKeySetOptions {
  /** Where the JWKS is (the configured URL, or one found in the issuer's metadata). */
  locate: () => Promise<URL>;
  cooldownMs: number;
  maxAgeMs: number;
  timeoutMs: number;
  logger: Logger;
  /** Called when a fetch brought a different key set (e.g. to forget tokens verified with a withdrawn key). */
  onChange?: () => void;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

export class RemoteKeySet {
  readonly #o: RemoteKeySetOptions;
  #local: LocalSet | undefined;
  #fetchedAt = 0;
  #attemptedAt = -Infinity;
  #pending: Promise<void> | undefined;
  #lastText = '';
  /** Fetches made, for tests and logs. */
  fetches = 0;

  constructor(options: RemoteKeySetOptions) {
    this.#o = options;
  }

  /** A jose key resolver: the key for a token's protected header. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const now = Date.now();
    if (!this.#local) await this.#refresh(true);
    else if (now - this.#fetchedAt > this.#o.maxAgeMs && this.#mayFetch(now)) await this.#refresh(false);
    try {
      return await (this.#local as LocalSet)(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // A kid we do not know: perhaps the issuer rotated its keys since we fetched them.
      if (!this.#mayFetch(Date.now())) throw new AuthFailure('unknown_key', 'no known key matches the token');
      await this.#refresh(false);
      try {
        return await (this.#local as LocalSet)(header, token);
      } catch (again) {
        if (again instanceof errors.JWKSNoMatchingKey) throw new AuthFailure('unknown_key', 'no known key matches the token');
        throw again;
      }
    }
  };

  #mayFetch(now: number): boolean {
    return this.#pending !== undefined || now - this.#attemptedAt >= this.#o.cooldownMs;
  }

  /** `required`: there are no keys yet, so a failure is the caller's failure (503). */
  async #refresh(required: boolean): Promise<void> {
    if (!this.#pending) {
      if (required && Date.now() - this.#attemptedAt < this.#o.cooldownMs) {
        throw new AuthUnavailable('the signing keys could not be fetched recently; not retrying yet');
      }
      this.#attemptedAt = Date.now();
      this.#pending = this.#fetch().finally(() => {
        this.#pending = undefined;
      });
    }
    try {
      await this.#pending;
    } catch (err) {
      if (required || !this.#local) throw err instanceof AuthUnavailable ? err : new AuthUnavailable('the signing keys could not be fetched', { cause: err });
      this.#o.logger.warn({ err: (err as Error).message }, 'JWKS refetch failed: keeping the keys fetched before');
    }
  }

  async #fetch(): Promise<void> {
    const url = await this.#o.locate();
    this.fetches++;
    const res = await fetch(url, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.#o.timeoutMs),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new AuthUnavailable(`the JWKS at ${url.href} answered ${res.status}`);
    }
    const text = await res.text();
    const jwks = JSON.parse(text) as JSONWebKeySet;
    this.#local = createLocalJWKSet(jwks); // throws JWKSInvalid on a malformed set: keeps the old one
    this.#fetchedAt = Date.now();
    if (this.#lastText !== '' && text !== this.#lastText) this.#o.onChange?.();
    this.#lastText = text;
    this.#o.logger.info({ jwks: url.href, keys: Array.isArray(jwks.keys) ? jwks.keys.length : 0 }, 'signing keys fetched');
  }
}
