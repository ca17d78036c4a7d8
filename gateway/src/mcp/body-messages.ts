// The JSON-RPC messages of a whole (bounded) response body the gateway read to learn from it (tools/list
// answers, a resume's initialize): one JSON value, object or batch, or the data of each SSE event
// (WHATWG HTML "Server-sent events": an event's data lines joined by "\n" form one message).
// Unparseable parts yield undefined rather than throwing: the caller only learns from what it understands.
export function* jsonRpcMessages(body: string): Generator<unknown> {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const value = safeParse(trimmed);
    if (Array.isArray(value)) yield* value;
    else yield value;
    return;
  }
  for (const event of body.split(/\r?\n\r?\n|\r\r/)) {
    const data = event
      .split(/\r?\n|\r/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data) yield safeParse(data);
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
