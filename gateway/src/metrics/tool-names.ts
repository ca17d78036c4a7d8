// The `tool` label of mcp_gateway_requests_total. Tool names come from clients, so they are bounded: a name
// is labelled as itself when a backend listed it (learned from tools/list responses passing through) or,
// until `firstSeenLimit` names are taken, when it is among the first names seen; every other name is
// `other`. A thousand made-up names cost one series, not a thousand.
import { jsonRpcMessages } from '../mcp/body-messages.ts';
const MAX_LEARNED = 1000;
const MAX_NAME_LENGTH = 64;
/** Largest tools/list response read to learn names; bigger ones are relayed without being read. */
export const TOOLS_LIST_READ_LIMIT = 1 << 20;

export class ToolNames {
  readonly #learned = new Set<string>();
  readonly #firstSeen = new Set<string>();
  readonly #firstSeenLimit: number;
  /** The last name labelled as itself. */
  #lastOwn: string | undefined = undefined;

  constructor(firstSeenLimit: number) {
    this.#firstSeenLimit = firstSeenLimit;
  }

  get learnedCount(): number {
    return this.#learned.size;
  }

  label(name: string | undefined): string {
    if (name === undefined) return '';
    // A name labelled as itself stays so (the sets only grow), so the last one is checked first, by equality:
    // a Set lookup with each request's new string costs V8 an internalization (issue 17). It is returned
    // rather than `name`: V8 has internalized it already, so it is a cheap key further on.
    if (name === this.#lastOwn) return this.#lastOwn;
    if (!this.#learned.has(name) && !this.#firstSeen.has(name)) {
      if (name.length > MAX_NAME_LENGTH || this.#firstSeen.size >= this.#firstSeenLimit) return 'other';
      this.#firstSeen.add(name);
    }
    this.#lastOwn = name;
    return name;
  }

  /** Learns the names in a tools/list response body (JSON, or an SSE stream of JSON-RPC messages). */
  learnFromToolsList(body: string): number {
    let added = 0;
    for (const message of jsonRpcMessages(body)) {
      const tools = (message as { result?: { tools?: unknown } }).result?.tools;
      if (!Array.isArray(tools)) continue;
      for (const t of tools) {
        const name = (t as { name?: unknown }).name;
        if (typeof name !== 'string' || name.length > MAX_NAME_LENGTH || this.#learned.size >= MAX_LEARNED) continue;
        if (!this.#learned.has(name)) added++;
        this.#learned.add(name);
      }
    }
    return added;
  }
}
