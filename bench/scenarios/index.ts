// Every scenario by name, in the order `--scenario all` runs them.
import { churn } from './churn.ts';
import { faults } from './faults.ts';
import { interactive } from './interactive.ts';
import type { Scenario } from './scenario.ts';
import { steady } from './steady.ts';
import { streams } from './streams.ts';

export const SCENARIOS: Record<string, Scenario<never>> = {
  steady: steady as Scenario<never>,
  interactive: interactive as Scenario<never>,
  churn: churn as Scenario<never>,
  streams: streams as Scenario<never>,
  faults: faults as Scenario<never>,
};
