// An in-memory EventStore for the demo backend's 2025-era sessions, so that a client can resume a dropped SSE
// stream with Last-Event-ID (Streamable HTTP 2025-11-25, "Resumability and Redelivery"). Event ids embed the
// stream id, so a replay needs only the id. Bounded per stream: a demo must not grow without limit.
import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

const MAX_EVENTS_PER_STREAM = 1000;

export class MemoryEventStore implements EventStore {
  readonly #streams = new Map<StreamId, Array<{ id: EventId; message: JSONRPCMessage }>>();
  #seq = 0;

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = `${streamId}_${String(++this.#seq).padStart(10, '0')}`;
    let events = this.#streams.get(streamId);
    if (!events) this.#streams.set(streamId, (events = []));
    events.push({ id, message });
    if (events.length > MAX_EVENTS_PER_STREAM) events.shift();
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    const cut = eventId.lastIndexOf('_');
    return cut > 0 ? eventId.slice(0, cut) : undefined;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (id: EventId, m: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const streamId = (await this.getStreamIdForEventId(lastEventId)) ?? '';
    for (const e of this.#streams.get(streamId) ?? []) {
      // The 2025-11-25 priming event carries no message; there is nothing to redeliver for it.
      if (e.id > lastEventId && Object.keys(e.message).length > 0) await send(e.id, e.message);
    }
    return streamId;
  }
}
