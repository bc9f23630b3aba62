import fs from 'node:fs';
import { startConfigSlot } from '../../scripts/start-config.mjs';
import { checkConfig, type CheckedConfig } from './schema';

/**
 * The check every entry runs first: instrumentation.ts register() for `npm start` (inside
 * app.prepare(), before scripts/server.mjs listens), scripts/worker.ts and scripts/cli.ts.
 * A bad variable ends the process with one line per bad variable on stderr, naming it,
 * never a stack trace, with exit code 78 (EX_CONFIG in sysexits.h): a supervisor that sees
 * it knows a restart won't help.
 */
export const configExitCode = 78;

/** The line printed for one bad variable. */
export function configErrorLine(problem: string): string {
  return `Configuration error: ${problem}`;
}

/**
 * Checks the environment; on a bad value prints the lines and exits, else keeps the checked
 * configuration for the process (the entry server waits for it: scripts/start-config.mjs).
 */
export function checkConfigAtStart(env: Readonly<Record<string, string | undefined>> = process.env): CheckedConfig {
  const result = checkConfig(env);
  if (!result.ok) {
    // Written at once: process.exit() doesn't wait for a stream's buffered writes.
    fs.writeSync(2, result.problems.map((problem) => `${configErrorLine(problem)}\n`).join(''));
    process.exit(configExitCode);
  }
  const slot = startConfigSlot();
  slot.config = result.config;
  slot.resolve(result.config);
  return result.config;
}

/** The configuration checked at start in this process, if it has been. */
export function checkedConfig(): CheckedConfig | undefined {
  return startConfigSlot().config;
}
