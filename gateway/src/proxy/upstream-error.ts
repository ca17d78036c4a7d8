// Sorts the errors undici raises into what they mean for the gateway: whether anything reached the backend
// (only then is a retry elsewhere unsafe), whether the backend is unreachable, slow, or broke the stream,
// or whether the failure is the gateway's own and proves nothing about the backend.

export type UpstreamFailureKind =
  /** No connection was made: nothing was delivered, a retry elsewhere is safe, the backend is suspect. */
  | 'connect'
  /**
   * The gateway's own failure before anything was sent (no ephemeral port left, no file descriptor, its
   * resolver failing): a retry elsewhere is safe, and the backend is not to blame.
   */
  | 'local'
  /** The backend did not answer (headers) or went silent (body) within the configured time. */
  | 'timeout'
  /** The connection broke after the request went out. */
  | 'reset'
  /** Our side gave up: the client went away. */
  | 'aborted'
  /** The pool was closed (backend removed, or shutdown). */
  | 'closed'
  | 'other';

// ENOTFOUND is getaddrinfo's EAI_NONAME: an answer (the name does not exist), so it counts against the backend
// (ejection, never proof of loss by itself). EAI_AGAIN/EAI_FAIL are the resolver failing to answer at all.
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
/** connect(2)/socket(2) and getaddrinfo(3) failures that are about this process or host, not the backend. */
const LOCAL_CODES = new Set(['EADDRNOTAVAIL', 'EADDRINUSE', 'EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_MEMORY', 'EAI_SYSTEM']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'GW_BODY_IDLE_TIMEOUT', 'ETIMEDOUT']);
const RESET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_RESPONSE_STATUS_CODE']);
const ABORT_CODES = new Set(['UND_ERR_ABORTED', 'ABORT_ERR']);
const CLOSED_CODES = new Set(['UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

function codesOf(err: unknown): string[] {
  const out: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') out.push(code);
    if ((e as { name?: unknown }).name === 'AbortError') out.push('ABORT_ERR');
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

export function classifyUpstreamError(err: unknown): { kind: UpstreamFailureKind; code: string } {
  const codes = codesOf(err);
  const match = (set: Set<string>) => codes.find((c) => set.has(c));
  let c: string | undefined;
  if ((c = match(LOCAL_CODES))) return { kind: 'local', code: c };
  if ((c = match(CONNECT_CODES))) return { kind: 'connect', code: c };
  if ((c = match(ABORT_CODES))) return { kind: 'aborted', code: c };
  if ((c = match(TIMEOUT_CODES))) return { kind: 'timeout', code: c };
  if ((c = match(RESET_CODES))) return { kind: 'reset', code: c };
  if ((c = match(CLOSED_CODES))) return { kind: 'closed', code: c };
  return { kind: 'other', code: codes[0] ?? 'UNKNOWN' };
}
