// The stateless era (2026-07-28) and everything else without a session: no affinity, no session id minted,
// stored or echoed, no state for multi-round-trip requests (an `input_required` retry is a new request that
// may land on any replica: the servers share the key that seals its `requestState`).
// One exception, from the Tasks extension (SEP-2663): a task lives on the replica that created it, so the
// gateway learns task ids from the answers that create them and pins tasks/* (Mcp-Name: <taskId>) there.
import type { Backend } from '../backends/backend.ts';
import { isValidSessionId } from '../mcp/headers.ts';
import { TaskWatch, type CreatedTask } from '../mcp/task-watch.ts';
import { shortId } from '../routing/session-directory.ts';
import type { SessionRecord } from '../sessions/store.ts';
import { BackendUnreachable, type Sent } from './forwarder.ts';
import { checkBinding, newRecord, refuseIfBackendNotYetSeen, type RouteContext } from './route-context.ts';

export async function routeStateless(ctx: RouteContext, watchForTask: boolean): Promise<void> {
  const { d, ex, upstream } = ctx;
  const sent = await d.forwarder.sendWithRetry((exclude) => d.registry.nextLive(exclude), upstream);
  ex.backend = sent.backend.id;
  return relayWatchingForTask(ctx, sent, watchForTask);
}

/** tasks/get, tasks/update, tasks/cancel: to the task's replica when the gateway knows it, else like the rest. */
export async function routeTask(ctx: RouteContext, taskId: string): Promise<void> {
  const { d, request, ex, upstream } = ctx;
  // Task ids become store keys: held to the rules of session ids (visible ASCII, bounded), else not pinned.
  if (!isValidSessionId(taskId)) return routeStateless(ctx, false);
  ex.taskId = taskId;
  const record = await findTask(ctx, taskId);
  if (record && checkBinding(ctx, taskId, record, 'task') === 'usable') {
    const backend = d.registry.forBinding(record);
    if (!backend) refuseIfBackendNotYetSeen(d, request, record);
    if (backend?.servesExisting) {
      try {
        const sent = await d.forwarder.sendPinned(backend, upstream);
        ex.backend = backend.id;
        ex.outcome = 'pinned';
        return await d.forwarder.relay(ex, sent);
      } catch (err) {
        if (!(err instanceof BackendUnreachable)) throw err;
      }
    }
    // Its replica is gone, and the task with it (unless the replicas share task storage): any live replica
    // answers, with the task or with the spec's "unknown task" error.
    await d.directory.unbind(taskId, record.backend, record.principal);
  }
  return routeStateless(ctx, false);
}

async function findTask({ d, request }: RouteContext, taskId: string): Promise<SessionRecord | undefined> {
  try {
    return await d.directory.lookup(taskId);
  } catch (err) {
    // The store cannot say: balance as if unknown rather than fail a request that may well succeed.
    request.log.warn({ task: shortId(taskId), err: (err as Error).message }, 'task binding not readable; routed without affinity');
    return undefined;
  }
}

function relayWatchingForTask(ctx: RouteContext, sent: Sent, watchForTask: boolean): Promise<void> {
  const { d, ex } = ctx;
  if (!watchForTask || sent.upstream.statusCode !== 200) return d.forwarder.relay(ex, sent);
  return d.forwarder.relay(ex, sent, { bodyFilter: (sse) => new TaskWatch(sse, (task) => bindTask(ctx, sent.backend, task)) });
}

async function bindTask({ d, request, ex }: RouteContext, backend: Backend, task: CreatedTask): Promise<void> {
  if (!isValidSessionId(task.taskId)) {
    request.log.warn({ backend: backend.id }, 'task id not usable as a binding (visible ASCII, 256 characters at most): not pinned');
    return;
  }
  ex.taskId = task.taskId;
  try {
    const result = await d.directory.bind(task.taskId, newRecord(request, backend, 'task'));
    if (!result.bound && result.existing.backend !== backend.id) {
      request.log.warn({ task: shortId(task.taskId), backend: backend.id, existing: result.existing.backend }, 'task id already bound elsewhere');
    }
  } catch (err) {
    request.log.warn({ task: shortId(task.taskId), err: (err as Error).message }, 'task not bound: its requests will be balanced');
  }
}
