import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { cliBundle, repoRoot } from './cli';

/**
 * vitest globalSetup: bundles the operator's CLI (scripts/cli.ts) once per run, for runCli.
 * Under tsx each CLI process compiled its whole import graph again: 1.4 s a start on an idle
 * machine against 0.5 s for the bundle, and the CLI suites start it dozens of times. Packages
 * stay external (required from node_modules as at run time); the code is the same source.
 * One suite (cli-create-user) still goes through tsx, as `npm run cli` does.
 */
export default async function setup() {
  fs.mkdirSync(path.dirname(cliBundle), { recursive: true });
  await build({
    entryPoints: [path.join(repoRoot, 'scripts/cli.ts')],
    outfile: cliBundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    logLevel: 'warning',
  });
}
