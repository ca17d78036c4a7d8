// Reads what the conformance CLI wrote (one directory per scenario, with checks.json) and compares two runs:
// the same requirement set against one replica directly, and through the gateway.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ScenarioResult {
  scenario: string;
  /** No check failed (warnings and skips do not fail a scenario, as in the CLI's own verdict). */
  passed: boolean;
  checks: number;
  failures: Array<{ id: string; message: string }>;
}

export interface RunResult {
  scenarios: Map<string, ScenarioResult>;
  passedScenarios: number;
  passedChecks: number;
  totalChecks: number;
}

const DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/;

export function readRun(outputDir: string): RunResult {
  const scenarios = new Map<string, ScenarioResult>();
  for (const entry of readdirSync(outputDir)) {
    const m = DIR.exec(entry);
    if (!m) continue;
    const checks = JSON.parse(readFileSync(join(outputDir, entry, 'checks.json'), 'utf8')) as Array<{ id: string; status: string; errorMessage?: string }>;
    const failures = checks.filter((c) => c.status === 'FAILURE').map((c) => ({ id: c.id, message: (c.errorMessage ?? '').slice(0, 300) }));
    scenarios.set(m[1] as string, { scenario: m[1] as string, passed: failures.length === 0, checks: checks.length, failures });
  }
  let passedScenarios = 0;
  let passedChecks = 0;
  let totalChecks = 0;
  for (const s of scenarios.values()) {
    if (s.passed) passedScenarios++;
    totalChecks += s.checks;
    passedChecks += s.checks - s.failures.length;
  }
  return { scenarios, passedScenarios, passedChecks, totalChecks };
}

export interface Comparison {
  requirements: string;
  direct: RunResult;
  gateway: RunResult;
  /** Passed against one replica, failed (or did not run) through the gateway: the gateway broke them. */
  regressions: ScenarioResult[];
  /** Failed directly, passed through the gateway (reported, not an error). */
  improvements: string[];
}

export function compare(requirements: string, direct: RunResult, gateway: RunResult): Comparison {
  const regressions: ScenarioResult[] = [];
  const improvements: string[] = [];
  for (const [name, d] of direct.scenarios) {
    const g = gateway.scenarios.get(name);
    if (d.passed && !g?.passed) regressions.push(g ?? { scenario: name, passed: false, checks: 0, failures: [{ id: '-', message: 'did not run through the gateway' }] });
    if (!d.passed && g?.passed) improvements.push(name);
  }
  return { requirements, direct, gateway, regressions, improvements };
}

export function report(c: Comparison): string {
  const line = (what: string, r: RunResult) =>
    `  ${what.padEnd(16)} ${r.passedScenarios}/${r.scenarios.size} scenarios, ${r.passedChecks}/${r.totalChecks} checks passed`;
  const out = [`requirements ${c.requirements}:`, line('direct', c.direct), line('through gateway', c.gateway)];
  const failedDirect = [...c.direct.scenarios.values()].filter((s) => !s.passed).map((s) => s.scenario);
  if (failedDirect.length > 0) out.push(`  failing against one replica already (not held against the gateway): ${failedDirect.join(', ')}`);
  if (c.improvements.length > 0) out.push(`  passing only through the gateway: ${c.improvements.join(', ')}`);
  for (const r of c.regressions) {
    out.push(`  REGRESSION ${r.scenario}:`);
    for (const f of r.failures) out.push(`    ${f.id}: ${f.message}`);
  }
  return out.join('\n');
}
