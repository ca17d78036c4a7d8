// The shape of a scenario: an unmeasured setup (sessions to work on), then a measured run bounded by the
// context's budget, which returns scenario-specific figures for the report.
import type { RunContext } from '../lib/driver.ts';

export interface Scenario<S = unknown> {
  name: string;
  describe: string;
  /** Backends this scenario needs, when it cannot run on every kind. */
  needs?: { backend?: 'demo'; gateways?: number; backends?: number };
  setup(ctx: RunContext): Promise<S>;
  run(ctx: RunContext, state: S): Promise<Record<string, unknown>>;
  /** Cleans up what setup or run left open (streams); always called. */
  teardown?(ctx: RunContext, state: S): Promise<void>;
}
