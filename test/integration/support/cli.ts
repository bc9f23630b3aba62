import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The operator's CLI as a real process: scripts/cli.ts bundled once per run by
 * cli-bundle-setup.ts (vitest's globalSetup), or through tsx as `npm run cli -- …` starts it.
 */

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
export const repoRoot = root;
/** Where cli-bundle-setup.ts writes the bundle. */
export const cliBundle = path.join(root, 'node_modules/.cache/portcullis-test/cli.cjs');

/** Each CLI test starts tsx several times: seconds each on a busy CI machine, so not vitest's 30 s. */
export const cliTestTimeoutMs = 120_000;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI with `args` from the repository root, the test's `env` over the process's.
 * Never throws for a non-zero exit: the code and both streams come back.
 * @example const { code, stdout } = await runCli({ DATABASE_URL: url }, 'invite', 'ivy')
 */
export async function runCli(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return runProcess(process.execPath, [cliBundle, ...args], env);
}

/** As runCli, through tsx on scripts/cli.ts: the way `npm run cli` starts it. */
export async function runCliWithTsx(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return runProcess(tsx, ['scripts/cli.ts', ...args], env);
}

async function runProcess(command: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A PORTCULLIS_SECRET for CLI runs: on PostgreSQL the check at start requires one (README, "Environment"). */
export const cliTestSecret = 'cli-test-secret-0123456789abcdef-0123456789';

/** Where a test without a data dir of its own (PostgreSQL) points PORTCULLIS_DATA_DIR. */
export const repoDataDir = path.join(root, 'data');
