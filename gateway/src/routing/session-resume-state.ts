// What --session-resume keeps with a binding so that any gateway replica can open a new upstream session
// for it: the client's `initialize` params (protocol version, capabilities, client info) and the
// state-setting requests the backend accepted (logging/setLevel, resources/subscribe|unsubscribe). Both are
// bounded: a client cannot make the gateway store (or replay) more than a few kilobytes per session.
import type { SessionRecord } from '../sessions/store.ts';
import { REPLAYED_STATE_METHODS } from './session-resume-policy.ts';

/** Largest initialize params kept (JSON text); a larger one leaves the session without resume. */
export const MAX_INIT_BYTES = 8 * 1024;
/** Most state-setting requests kept per session, and largest params of one. */
export const MAX_REPLAY_ENTRIES = 32;
export const MAX_REPLAY_PARAMS_BYTES = 2 * 1024;

/** The params of the `initialize` request in `body`, as JSON text, when small enough to keep. */
export function initParamsOf(body: Buffer | undefined): string | undefined {
  if (!body || body.length > MAX_INIT_BYTES * 4) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const first = Array.isArray(message) ? message[0] : message;
  const m = first as { method?: unknown; params?: unknown } | undefined;
  if (m?.method !== 'initialize' || typeof m.params !== 'object' || m.params === null) return undefined;
  const text = JSON.stringify(m.params);
  return Buffer.byteLength(text) <= MAX_INIT_BYTES ? text : undefined;
}

/** Method and params (JSON text) of a state-setting request in `body`, or undefined for any other request. */
export function stateRequestOf(body: Buffer | undefined, method: string | undefined): { method: string; params: string } | undefined {
  if (!body || method === undefined || !REPLAYED_STATE_METHODS.has(method)) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const m = (Array.isArray(message) ? undefined : message) as { method?: unknown; params?: unknown } | undefined;
  if (m?.method !== method) return undefined;
  const params = JSON.stringify(m.params ?? {});
  return Buffer.byteLength(params) <= MAX_REPLAY_PARAMS_BYTES ? { method, params } : undefined;
}

/**
 * The record with one more accepted state-setting request, or undefined when nothing changes. A new log
 * level replaces the last one; an unsubscribe cancels the matching subscribe; a repeated subscribe is kept once.
 */
export function withStateRequest(record: SessionRecord, entry: { method: string; params: string }): SessionRecord | undefined {
  const replay = [...(record.replay ?? [])];
  const uri = (params: string) => {
    try {
      return (JSON.parse(params) as { uri?: unknown }).uri;
    } catch {
      return undefined;
    }
  };
  if (entry.method === 'logging/setLevel') {
    const i = replay.findIndex((e) => e.method === 'logging/setLevel');
    if (i >= 0 && replay[i]?.params === entry.params) return undefined;
    if (i >= 0) replay.splice(i, 1);
    replay.unshift(entry);
  } else if (entry.method === 'resources/unsubscribe') {
    const i = replay.findIndex((e) => e.method === 'resources/subscribe' && uri(e.params) === uri(entry.params));
    if (i < 0) return undefined;
    replay.splice(i, 1);
  } else {
    if (replay.some((e) => e.method === entry.method && uri(e.params) === uri(entry.params))) return undefined;
    if (replay.length >= MAX_REPLAY_ENTRIES) return undefined; // bounded: later subscriptions are not carried
    replay.push(entry);
  }
  const next: SessionRecord = { ...record };
  if (replay.length > 0) next.replay = replay;
  else delete next.replay;
  return next;
}
