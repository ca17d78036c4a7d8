// OpenTelemetry traces (off by default). One SERVER span per request on the MCP port, named and attributed
// per the OpenTelemetry MCP semantic conventions (span name `{mcp.method.name} {target}`; attributes
// mcp.method.name, mcp.session.id, mcp.protocol.version, jsonrpc.request.id, gen_ai.tool.name, …), and one
// CLIENT span per request sent to a backend, whose context goes to the backend in a W3C `traceparent`
// header. Exported over OTLP/HTTP. No global context manager is installed: contexts are passed explicitly,
// so nothing is paid when tracing is off (the no-op tracer below).
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';

export interface TracingOptions {
  enabled: boolean;
  /** OTLP/HTTP base URL; spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  sampleRatio: number;
  serviceName: string;
  instanceId: string;
  version: string;
}

/** What a finished request tells its span. */
export interface RequestSummary {
  httpMethod: string;
  rpcMethod: string | undefined;
  tool: string | undefined;
  rpcId: string | number | null | undefined;
  /** Shortened: a session id is a capability and does not belong in telemetry in full. */
  sessionShort: string | undefined;
  protocolVersion: string | undefined;
  backend: string | undefined;
  status: number;
  errorCode: string | undefined;
}

export interface RequestSpan {
  /**
   * False with tracing off: the caller then skips building the request's summary for end() (issue 17: it was
   * built for every request and thrown away).
   */
  readonly recording: boolean;
  /** Starts the CLIENT span for one attempt to a backend and returns headers carrying its traceparent. */
  upstreamStart(httpMethod: string, backendId: string, url: URL, headers: Record<string, string | string[]>): UpstreamSpan;
  end(summary: RequestSummary): void;
}

export interface UpstreamSpan {
  end(status: number | undefined, error?: string): void;
}

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (c: Record<string, unknown>) => Object.keys(c),
  get: (c: Record<string, unknown>, k: string) => {
    const v = c[k.toLowerCase()];
    return typeof v === 'string' || Array.isArray(v) ? (v as string | string[]) : undefined;
  },
};
const headerSetter = { set: (c: Record<string, string | string[]>, k: string, v: string) => void (c[k] = v) };

const NOOP_UPSTREAM: UpstreamSpan = { end: () => undefined };
const NOOP_SPAN: RequestSpan = { recording: false, upstreamStart: () => NOOP_UPSTREAM, end: () => undefined };

export class RequestTracing {
  readonly #tracer: Tracer | undefined;
  readonly #provider: TracerProvider | undefined;

  constructor(o: TracingOptions) {
    if (!o.enabled) return;
    const exporter = new OTLPTraceExporter({ url: `${o.endpoint.replace(/\/$/, '')}/v1/traces` });
    this.#provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': o.serviceName, 'service.version': o.version, 'service.instance.id': o.instanceId }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.sampleRatio) }),
      spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 })],
    });
    this.#tracer = this.#provider.getTracer('mcp-session-gateway', o.version);
  }

  get enabled(): boolean {
    return this.#tracer !== undefined;
  }

  /** A span for a request that arrived with these headers (continuing the client's trace if it sent one). */
  start(incoming: Record<string, unknown>): RequestSpan {
    const tracer = this.#tracer;
    if (!tracer) return NOOP_SPAN;
    const parent = propagator.extract(ROOT_CONTEXT, incoming, headerGetter);
    const server = tracer.startSpan('mcp', { kind: SpanKind.SERVER, attributes: { 'network.protocol.name': 'http', 'network.transport': 'tcp' } }, parent);
    const serverCtx = trace.setSpan(parent, server);
    return {
      recording: true,
      upstreamStart: (httpMethod, backendId, url, headers) => startUpstream(tracer, serverCtx, httpMethod, backendId, url, headers),
      end: (s) => endServer(server, s),
    };
  }

  async close(): Promise<void> {
    await this.#provider?.shutdown().catch(() => undefined);
  }
}

function startUpstream(
  tracer: Tracer,
  parent: Context,
  httpMethod: string,
  backendId: string,
  url: URL,
  headers: Record<string, string | string[]>,
): UpstreamSpan {
  const span = tracer.startSpan(
    httpMethod,
    { kind: SpanKind.CLIENT, attributes: { 'server.address': url.hostname, 'server.port': Number(url.port || 80), 'url.full': url.href, 'mcp_gateway.backend': backendId } },
    parent,
  );
  // The backend continues this trace: traceparent names the CLIENT span as its parent.
  delete headers.traceparent;
  delete headers.tracestate;
  propagator.inject(trace.setSpan(parent, span), headers, headerSetter);
  return {
    end(status, error) {
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      if (error !== undefined || (status !== undefined && status >= 500)) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        if (error) span.setAttribute('error.type', error);
      }
      span.end();
    },
  };
}

function endServer(span: Span, s: RequestSummary): void {
  const method = s.rpcMethod ?? (s.httpMethod === 'GET' ? 'stream' : s.httpMethod);
  // Span name: `{mcp.method.name} {target}`, target = tool name when there is one (low cardinality).
  span.updateName(s.tool ? `${method} ${s.tool}` : method);
  span.setAttribute('http.request.method', s.httpMethod);
  span.setAttribute('http.response.status_code', s.status);
  if (s.rpcMethod) span.setAttribute('mcp.method.name', s.rpcMethod);
  if (s.tool) {
    span.setAttribute('gen_ai.tool.name', s.tool);
    span.setAttribute('gen_ai.operation.name', 'execute_tool');
  }
  if (s.rpcId !== undefined && s.rpcId !== null) span.setAttribute('jsonrpc.request.id', String(s.rpcId));
  if (s.sessionShort) span.setAttribute('mcp.session.id', s.sessionShort);
  if (s.protocolVersion) span.setAttribute('mcp.protocol.version', s.protocolVersion);
  if (s.backend) span.setAttribute('mcp_gateway.backend', s.backend);
  if (s.errorCode) {
    span.setAttribute('error.type', s.errorCode.toLowerCase());
    span.setStatus({ code: SpanStatusCode.ERROR, message: s.errorCode });
  } else if (s.status >= 500) {
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
