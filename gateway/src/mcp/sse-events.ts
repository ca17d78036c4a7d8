// Just enough of the SSE wire format (WHATWG HTML §9.2.5/§9.2.6) to find where an event ends and to read its
// fields. Lines end with CRLF, LF or CR; a blank line ends an event; a line starting with ':' is a comment.
// Used by the filters that look at a stream in passing; they forward the original bytes, never these parses.

const LF = 0x0a;
const CR = 0x0d;

/** Index just past the blank line that ends the first complete event at or after `from`; -1 if none yet. */
export function eventEnd(buf: Buffer, from = 0): number {
  let lineStart = true;
  for (let i = from; i < buf.length; i++) {
    const c = buf[i];
    if (c !== LF && c !== CR) {
      lineStart = false;
      continue;
    }
    // A CR followed by LF is one terminator.
    const end = c === CR && buf[i + 1] === LF ? i + 2 : i + 1;
    if (c === CR && i + 1 === buf.length) return -1; // a CR at the end: its LF may still be on the way
    if (lineStart) return end;
    lineStart = true;
    i = end - 1;
  }
  return -1;
}

export interface SseEvent {
  /** The `event` field; "message" when absent (SSE default). */
  type: string;
  /** The `data` lines joined with LF. */
  data: string;
  /** True when the block has no fields at all (comments and blank lines only). */
  empty: boolean;
}

export function parseEvent(block: string): SseEvent {
  let type = 'message';
  const data: string[] = [];
  let empty = true;
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    empty = false;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  return { type, data: data.join('\n'), empty };
}
