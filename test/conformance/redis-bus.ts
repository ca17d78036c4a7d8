// A ServerEventBus over Redis pub/sub, so that a change event published on one replica reaches the
// subscriptions/listen streams held by every replica (SDK docs, "Sessions, state, and scaling": the default bus
// is in-process). Behind a gateway that balances 2026-07-28 traffic, the call that triggers a change and the
// listen stream that should see it are usually on different replicas.
import { Redis } from 'ioredis';
import type { ServerEvent, ServerEventBus } from '@modelcontextprotocol/server';

export class RedisEventBus implements ServerEventBus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #listeners = new Set<(event: ServerEvent) => void>();

  constructor(url: string, channel = 'everything-server:events') {
    this.#channel = channel;
    this.#pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
    this.#sub = new Redis(url, { lazyConnect: false });
    this.#sub.on('message', (ch: string, message: string) => {
      if (ch !== this.#channel) return;
      let event: ServerEvent;
      try {
        event = JSON.parse(message) as ServerEvent;
      } catch {
        return;
      }
      for (const l of [...this.#listeners]) {
        try {
          l(event);
        } catch {
          // one failing stream must not starve the others
        }
      }
    });
  }

  /** Resolves once the subscription is in place (events published before it would be missed). */
  async ready(): Promise<void> {
    await this.#sub.subscribe(this.#channel);
  }

  publish(event: ServerEvent): void {
    // Every replica, this one included, hears it back from Redis: delivered once, in publish order.
    void this.#pub.publish(this.#channel, JSON.stringify(event)).catch(() => undefined);
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#sub.disconnect();
    this.#pub.disconnect();
  }
}
