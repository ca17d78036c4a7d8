import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { releaseAll } from '../../gateway/src/shutdown.ts';

test('every release step runs though one before it fails; failures are logged and named', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'error' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const ran: string[] = [];
  const failed = await releaseAll(
    [
      { name: 'tracing', close: async () => { ran.push('tracing'); throw new Error('exporter unreachable'); } },
      { name: 'throws at once', close: () => { ran.push('throws at once'); throw new Error('sync'); } },
      { name: 'session store', close: async () => void ran.push('session store') },
      { name: 'admin listener', close: () => void ran.push('admin listener') },
    ],
    log,
  );
  assert.deepEqual(ran, ['tracing', 'throws at once', 'session store', 'admin listener']);
  assert.deepEqual(failed, ['tracing', 'throws at once']);
  assert.deepEqual(lines.map((l) => l.step), ['tracing', 'throws at once']);
});
