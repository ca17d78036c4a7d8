// What every route of the MCP listener is given: the gateway's parts, and one request on its way through.
import type { AccessLog } from './access-log.ts';
import type { McpRequest } from './mcp-request.ts';
import { GatewayError } from '../errors.ts';
import type { Backend } from '../backends/backend.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import type { GatewayConfig } from '../config/options.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { ToolNames } from '../metrics/tool-names.ts';
import type { UpstreamRequest } from '../proxy/send.ts';
import type { Placement } from '../routing/placement.ts';
import type { SessionDirectory } from '../routing/session-directory.ts';
import type { SessionRecovery } from '../routing/session-recovery.ts';
import { judgeBinding, type BindingVerdict } from '../routing/binding-validator.ts';
import { shortId } from '../routing/session-directory.ts';
import type { ToolReplaySafety } from '../routing/session-resume-policy.ts';
import type { SessionResumer } from '../routing/session-resume.ts';
import type { RequestTracing } from '../tracing/tracing.ts';
import type { SessionRecord } from '../sessions/store.ts';
import type { CheckedRequest } from './edge-checks.ts';
import type { Exchange } from './exchange.ts';
import type { Forwarder } from './forwarder.ts';
import type { Quotas } from './quotas.ts';
import type { TrafficWindow } from '../admin/traffic-window.ts';

export interface McpHandlerDeps {
  config: GatewayConfig;
  registry: BackendRegistry;
  directory: SessionDirectory;
  placement: Placement;
  forwarder: Forwarder;
  metrics: GatewayMetrics;
  toolNames: ToolNames;
  lifecycle: Lifecycle;
  tracing: RequestTracing;
  /** Writes the one line per request (no redaction pass: the line never carries secrets). */
  accessLog: AccessLog;
  quotas: Quotas;
  /** Looks for sessions nobody knows on the backends; absent when --session-recovery is off. */
  recovery: SessionRecovery | undefined;
  /** The status page's last-minute traffic figures, fed once per response by the exchange. */
  traffic?: TrafficWindow | undefined;
  /** Resumes sessions of lost backends elsewhere; absent unless --session-resume reinitialize (issue 16). */
  resumer?: SessionResumer | undefined;
  /** Which tools' calls may be sent twice (learned from tools/list); with `resumer`. */
  toolSafety?: ToolReplaySafety | undefined;
}

/** One request being routed. */
export interface RouteContext {
  d: McpHandlerDeps;
  request: McpRequest;
  ex: Exchange;
  checked: CheckedRequest;
  upstream: UpstreamRequest;
}

/** The principal the auth layer verified for this request (absent when auth is off). */
export function principalOf(request: McpRequest): string | undefined {
  return (request as McpRequest & { principal?: string }).principal;
}

/**
 * The verdict on a binding this request presents (routing/binding-validator.ts). Someone else's binding is
 * refused exactly like an unknown one, so that ids cannot be probed; it is counted and logged here, for
 * every route alike.
 */
export function checkBinding(ctx: Pick<RouteContext, 'd' | 'request'>, id: string, record: SessionRecord | undefined, kind: SessionRecord['kind']): BindingVerdict {
  const verdict = judgeBinding(record, kind, principalOf(ctx.request));
  if (verdict === 'other-principal') {
    ctx.d.metrics.sessionsLost.inc({ reason: 'principal_mismatch' });
    ctx.request.log.warn({ [kind === 'task' ? 'task' : 'session']: shortId(id) }, 'binding presented by another principal: treated as unknown');
  }
  return verdict;
}

/**
 * For a binding whose backend this replica does not have. When another replica's discovery is just ahead of
 * this one's (a pod that came up a moment ago), the session is alive: it is answered 503 with Retry-After,
 * not 404 (which would end it for the client), and the binding stays in the store. Returns when the
 * backend is gone for good, and the caller forgets the session.
 */
export function refuseIfBackendNotYetSeen(d: McpHandlerDeps, request: McpRequest, record: SessionRecord): void {
  if (d.registry.whyUnknown(record) !== 'not-yet-seen') return;
  d.metrics.sessionBackendUnseen.inc();
  request.log.warn({ backend: record.backend }, 'session bound to a backend this replica has not discovered yet: answered 503');
  throw new GatewayError('BACKEND_NOT_YET_SEEN');
}

/** A new binding's record, carrying the principal when auth is on. */
export function newRecord(request: McpRequest, backend: Pick<Backend, 'id' | 'instance'>, kind: SessionRecord['kind'], protocolVersion?: string): SessionRecord {
  const principal = principalOf(request);
  return {
    backend: backend.id,
    ...(backend.instance !== undefined ? { instance: backend.instance } : {}),
    kind,
    createdAt: Date.now(),
    ...(principal !== undefined ? { principal } : {}),
    ...(protocolVersion !== undefined ? { protocolVersion } : {}),
  };
}
