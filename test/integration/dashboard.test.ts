// The Grafana dashboard and the alert rules shipped with the chart query only metrics the gateway exports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { REPO } from '../support/backends.ts';
import { parsePrometheus } from '../support/prom.ts';
import { rawCall, rawSession } from '../support/raw-mcp.ts';
import { startTopology, type Topology } from '../support/topology.ts';

const CHART = `${REPO}charts/mcp-session-gateway`;
const METRIC = /\b((?:mcp_gateway|process|nodejs)_[a-z0-9_]+)\b/g;

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
}

describe('dashboard and alerts', () => {
  let topo: Topology;
  let exported: Set<string>;
  before(async () => {
    topo = await startTopology({ store: 'memory', backends: ['a'] });
    // Request series are labelled by method and status, so they appear with the first request.
    const sid = await rawSession(topo.entries()[0]!);
    await rawCall(topo.entries()[0]!, sid, 'whoami');
    exported = new Set(parsePrometheus(await topo.gateways[0]!.metricsText()).map((s) => s.name));
  });
  after(async () => topo?.stop());

  test('every metric the dashboard queries exists in the gateway output', () => {
    const dashboard = JSON.parse(readFileSync(`${CHART}/dashboards/mcp-gateway.json`, 'utf8')) as { uid: string; panels: Panel[] };
    assert.equal(dashboard.uid, 'mcp-session-gateway');
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has a query`);
      for (const t of panel.targets ?? []) for (const m of t.expr.matchAll(METRIC)) queried.add(m[1] as string);
    }
    assert.ok(queried.size >= 10, `the dashboard covers the gateway's metrics (${queried.size})`);
    for (const name of queried) assert.ok(exported.has(name), `${name} is exported`);
  });

  test('every alert rule parses and queries exported metrics', () => {
    const rules = parseYaml(readFileSync(`${CHART}/alerts/rules.yaml`, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const alerts = rules.groups.flatMap((g) => g.rules);
    assert.deepEqual(alerts.map((a) => a.alert).sort(), ['McpGatewayBackendFlapping', 'McpGatewayDiscoveryLagging', 'McpGatewayHigh5xxRatio', 'McpGatewayNoLiveBackend', 'McpGatewaySessionStoreErrors', 'McpGatewaySessionsLost']);
    for (const a of alerts) {
      const names = [...a.expr.matchAll(METRIC)].map((m) => m[1] as string);
      assert.ok(names.length > 0, a.alert);
      for (const n of names) assert.ok(exported.has(n), `${a.alert}: ${n} is exported`);
    }
  });
});
