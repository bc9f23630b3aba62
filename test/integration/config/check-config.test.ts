import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { configVariables } from '../../../lib/config/schema';
import { cliBundle, cliTestTimeoutMs, repoRoot } from '../support/cli';

/*
 * `npm run cli -- check-config`, and the check every CLI command and `npm run worker` run
 * first, as real processes with exactly the environment given (nothing inherited but PATH,
 * so the defaults shown are the defaults). Personas: Olga, the operator, with a production
 * configuration; Pia, with none.
 */
const run = promisify(execFile);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-check-config-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function start(command: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, command, { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } as Record<string, string> as NodeJS.ProcessEnv, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
const cli = (env: Record<string, string>, ...args: string[]) => start([cliBundle, ...args], env);

const olga = {
  DATABASE_URL: 'postgres://portcullis:pg-pass-word@db.internal:5432/portcullis',
  PORTCULLIS_SECRET: 'olgas-newest-secret-0123456789abcdef,olgas-older-secret-0123456789abcdef0',
  PORTCULLIS_ORIGIN: 'https://portal.example.com',
  PORTCULLIS_COOKIE_DOMAIN: 'example.com',
  PORTCULLIS_TRUSTED_PROXIES: '10.0.0.5',
  PORTCULLIS_RESOURCES: 'wiki.example.com=wiki',
  PORTCULLIS_ENTRY_GATE: 'on',
  PORT: '8443',
  HOST: '127.0.0.1',
  SMTP_URL: 'smtps://mailer:mail-pass-word@smtp.example.com:465',
  PORTCULLIS_MAIL_FROM: 'Example MFA <mfa@example.com>',
  PORTCULLIS_INVITATION_DAYS: '10',
  PORTCULLIS_REMINDER_OFFSETS: '2d',
  PORTCULLIS_DISABLE_WORKER: '1',
  PORTCULLIS_PASSWORD_THREADS: '2',
  PORTCULLIS_PASSWORD_NICE: '12',
  LOG_LEVEL: 'warn',
  PORTCULLIS_METRICS_TOKEN: 'olgas-metrics-token-0123456789abcdef',
  PORTCULLIS_SHUTDOWN_TIMEOUT: '40',
  PORTCULLIS_DATA_DIR: dataDir,
};

describe('npm run cli -- check-config', () => {
  it(
    "Olga's production configuration: every variable from the environment, secrets masked, exit 0, no database touched",
    async () => {
      const { code, stdout, stderr } = await cli(olga, 'check-config');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('The configuration is valid. Effective values (secrets masked):');
      expect(lines.slice(1).map((line) => line.trim().split(/\s+/)[0])).toEqual([...configVariables]);
      for (const line of lines.slice(1)) expect(line).toMatch(/^ {2}[A-Z_]+ +environment {2}/);
      expect(stdout).toContain('postgres://portcullis:***@db.internal:5432/portcullis (PostgreSQL)');
      expect(stdout).toContain('smtps://mailer:***@smtp.example.com:465');
      for (const secret of ['olgas-newest', 'olgas-older', 'olgas-metrics', 'pg-pass-word', 'mail-pass-word']) expect(stdout).not.toContain(secret);
    },
    cliTestTimeoutMs,
  );

  it(
    "Pia's empty environment: every variable at its default, nothing written to the data dir",
    async () => {
      const { code, stdout } = await cli({ PORTCULLIS_DATA_DIR: path.join(dataDir, 'pia') }, 'check-config');
      expect(code).toBe(0);
      const sources = stdout.trimEnd().split('\n').slice(1).map((line) => line.trim().split(/\s+/).slice(0, 2));
      expect(sources).toEqual(configVariables.map((name) => [name, name === 'PORTCULLIS_DATA_DIR' ? 'environment' : 'default']));
      expect(stdout).toContain(`the file ${path.join(dataDir, 'pia', 'secret')} (generated on first start, mode 0600)`);
      expect(fs.existsSync(path.join(dataDir, 'pia'))).toBe(false);
    },
    cliTestTimeoutMs,
  );

  it(
    'a bad value: the one line naming it on stderr, nothing on stdout, exit 78',
    async () => {
      const { code, stdout, stderr } = await cli({ ...olga, PORTCULLIS_SECRET: 'olgas-short-secret' }, 'check-config');
      expect(code).toBe(78);
      expect(stdout).toBe('');
      expect(stderr).toBe('Configuration error: PORTCULLIS_SECRET must be at least 32 characters\n');
    },
    cliTestTimeoutMs,
  );
});

describe('every entry but the server checks at start too (the server: test/e2e/config-at-start.spec.ts)', () => {
  it(
    'a CLI command stops before it opens the database: create-admin with a malformed DATABASE_URL',
    async () => {
      const { code, stdout, stderr } = await cli({ DATABASE_URL: 'postgres//db.internal/portcullis' }, 'create-admin', '--username', 'olga', '--password', 'a long passphrase');
      expect([code, stdout, stderr]).toEqual([78, '', 'Configuration error: DATABASE_URL must be file:<path>, sqlite:<path> or postgres://…\n']);
    },
    cliTestTimeoutMs,
  );

  it(
    '`npm run worker` with an unknown reminder offset',
    async () => {
      const { code, stdout, stderr } = await start(
        [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'scripts/worker.ts'],
        { PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_REMINDER_OFFSETS: '3d,fortnightly' },
      );
      expect([code, stdout]).toEqual([78, '']);
      expect(stderr).toBe(
        'Configuration error: PORTCULLIS_REMINDER_OFFSETS: Reminder offset "fortnightly" is not a duration like 3d, 12h or 30m (at most 365d).\n',
      );
    },
    cliTestTimeoutMs,
  );
});
