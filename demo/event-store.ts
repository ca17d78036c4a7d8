// An in-memory EventStore for the demo backend, so that a client can resume a dropped SSE stream with
// Last-Event-ID (Streamable HTTP "Resumability and Redelivery"). Event ids embed the stream id, so a replay
// needs only the id. Bounded per stream: a demo must not grow without limit.
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const MAX_EVENTS_PER_STREAM = 1000;

export class MemoryEventStore implements EventStore {
  readonly #streams = new Map<string, Array<{ id: string; message: JSONRPCMessage }>>();
  #seq = 0;

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}_${String(++this.#seq).padStart(10, '0')}`;
    let events = this.#streams.get(streamId);
    if (!events) this.#streams.set(streamId, (events = []));
    events.push({ id, message });
    if (events.length > MAX_EVENTS_PER_STREAM) events.shift();
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    const cut = eventId.lastIndexOf('_');
    return cut > 0 ? eventId.slice(0, cut) : undefined;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (id: string, m: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const streamId = (await this.getStreamIdForEventId(lastEventId)) ?? '';
    for (const e of this.#streams.get(streamId) ?? []) {
      if (e.id > lastEventId) await send(e.id, e.message);
    }
    return streamId;
  }
}
