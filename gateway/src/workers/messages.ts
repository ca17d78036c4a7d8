// What the primary and its workers say to each other over the cluster IPC channel.
import type { Registry } from 'prom-client';

/** One worker's registry as prom-client JSON. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** A worker is listening: its share of the MCP port, and its own admin listener on loopback. */
export interface ReadyMessage {
  type: 'mcp-gateway:ready';
  mcpPort: number;
  adminPort: number;
}

/** The primary asks for a worker's metrics (prom-client JSON, for AggregatorRegistry). */
export interface MetricsRequest {
  type: 'mcp-gateway:metrics?';
  id: number;
}

export interface MetricsAnswer {
  type: 'mcp-gateway:metrics';
  id: number;
  metrics: MetricsJson;
}

export type WorkerMessage = ReadyMessage | MetricsAnswer;

export function isMessage<T extends { type: string }>(m: unknown, type: T['type']): m is T {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;
}

/** Env var that tells a worker the port its siblings share (the first worker's, when --port 0). */
export const WORKER_PORT_ENV = 'MCP_GATEWAY_WORKER_PORT';
