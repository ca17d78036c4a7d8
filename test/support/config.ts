// The gateway's configuration as the tests look at it: what loadConfig refuses, and why.
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../gateway/src/config/load.ts';

/** The problems loadConfig reports for these flags and environment; [] when it accepts them. */
export function configProblems(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig(argv, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  return [];
}

/** The problems of a configuration that must be refused (fails the test when it is accepted). */
export function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const problems = configProblems(argv, env);
  assert.ok(problems.length > 0, 'expected a ConfigError');
  return problems;
}
