import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { freePort } from '../support/local-processes';

/*
 * Configuration checked at start (issue #17, part 6), against `npm start` itself: scripts/
 * start.mjs with the production build, whose instrumentation.ts register() checks every
 * variable before scripts/server.mjs listens. Olga, the operator, makes each of the issue's
 * five mistakes once; each stops the start with one line naming the variable on stderr, no
 * stack trace, exit code 78, before anything listens or the database is opened. No browser:
 * each start ends in about a second.
 */
const root = path.resolve(__dirname, '..', '..');
const secret = randomBytes(32).toString('hex');

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
  dataDir: string;
  port: number;
}

/** `npm start` (node scripts/start.mjs) with exactly this environment, until it exits. */
async function npmStart(env: Record<string, string>): Promise<Ended> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-config-'));
  const port = await freePort();
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NEXT_TELEMETRY_DISABLED: '1',
    PORT: String(port),
    HOST: '127.0.0.1',
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_SECRET: secret,
    ...env,
  };
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.mjs')], {
    cwd: root,
    env: childEnv as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr, dataDir, port };
}

test.beforeAll(() => {
  if (!fs.existsSync(path.join(root, '.next', 'BUILD_ID'))) throw new Error('no build: run `npx next build` first (scripts/test.sh does)');
});

const cases: [string, Record<string, string>, string][] = [
  ['a malformed DATABASE_URL', { DATABASE_URL: 'postgres//portcullis@db.internal/portcullis' }, 'DATABASE_URL must be file:<path>, sqlite:<path> or postgres://…'],
  ['a short secret', { PORTCULLIS_SECRET: 'olgas-short-secret' }, 'PORTCULLIS_SECRET must be at least 32 characters'],
  ['a PORTCULLIS_ORIGIN with a path', { PORTCULLIS_ORIGIN: 'https://portal.example.com/mfa' }, 'PORTCULLIS_ORIGIN must be an http(s) origin such as https://portal.example.com, without a path'],
  [
    'a malformed PORTCULLIS_TRUSTED_PROXIES',
    { PORTCULLIS_TRUSTED_PROXIES: '10.0.0.5, proxy.internal' },
    'PORTCULLIS_TRUSTED_PROXIES: "proxy.internal" is not an IP address (give a hop count, or proxy addresses separated by commas)',
  ],
  [
    'an unknown reminder offset',
    { PORTCULLIS_REMINDER_OFFSETS: '3d,1w' },
    'PORTCULLIS_REMINDER_OFFSETS: Reminder offset "1w" is not a duration like 3d, 12h or 30m (at most 365d).',
  ],
];

for (const [mistake, env, line] of cases) {
  test(`npm start with ${mistake}: one line naming it, exit 78, nothing listening, no database`, async () => {
    const ended = await npmStart(env);
    try {
      expect(ended.stderr).toBe(`Configuration error: ${line}\n`);
      expect(ended.code).toBe(78);
      // Next.js's own start-up note may be there; never a stack trace or a listening line.
      expect(ended.stdout).not.toMatch(/\n\s+at |Error|listening/);
      expect(fs.readdirSync(ended.dataDir)).toEqual([]);
    } finally {
      fs.rmSync(ended.dataDir, { recursive: true, force: true });
    }
  });
}
