/**
 * E2E harness: starts the built portal in production mode, as `npm start` serves it
 * (node scripts/server.mjs; plain `next start` if that file is absent), on a free port of
 * 127.0.0.1 with its own temp data dir, SQLite database and secret, optionally under
 * libfaketime. Server output goes to <dataDir>/server.log.
 *
 *   const portal = await startPortal();
 *   await page.goto(portal.url + '/login');
 *   await portal.restart({ faketime: '+8d' });   // same data dir, secret, port and url
 *   await portal.stop();
 *
 * Needs a build (`npx next build`) in the app dir: the repo root, or PORTCULLIS_APP_DIR.
 * faketime specs are libfaketime's FAKETIME format (as `faketime -f`): '@2030-01-01 12:00:00'
 * (start then and run), '2030-01-01 12:00:00' (frozen), '+8d' / '-2h' (offset from now,
 * running). libfaketime (Debian package `faketime`) is preloaded into the server process;
 * only the wall clock is faked (Date.now(), new Date(), file times), monotonic clocks stay
 * real so Node's timers keep working. The test process (and the browser) keep the real time.
 * Data dirs are removed when the worker exits unless PORTCULLIS_E2E_KEEP=1.
 *
 * The database is SQLite (a file in the data dir) or PostgreSQL (a fresh database on the
 * TEST_POSTGRES_URL server, test/e2e/support/postgres.ts, dropped when the portal stops):
 * `database` picks, defaulting to PORTCULLIS_E2E_DATABASE, itself defaulting to sqlite.
 * scripts/test.sh runs the suite once on each. Two instances on one database, as the
 * README's scale-out setup has them:
 *
 *   const a = await startPortal({ database: 'postgres' });
 *   const b = await startPortal({ sameDatabaseAs: a });   // same DATABASE_URL and PORTCULLIS_SECRET
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, httpStatus as probe, signalGroup as killGroup, tailOfLog } from '../../support/local-processes';
import { createE2eDatabase, type E2eDatabase } from './postgres';

export type E2eDatabaseKind = 'sqlite' | 'postgres';

/** The database specs run on unless they say: PORTCULLIS_E2E_DATABASE, else sqlite. */
export function defaultDatabase(): E2eDatabaseKind {
  const kind = process.env.PORTCULLIS_E2E_DATABASE || 'sqlite';
  if (kind !== 'sqlite' && kind !== 'postgres') throw new Error(`PORTCULLIS_E2E_DATABASE must be sqlite or postgres, not ${kind}`);
  return kind;
}

export interface StartOptions {
  /** Extra environment for the server; wins over the harness's defaults (DATABASE_URL too). */
  env?: Record<string, string>;
  /** A libfaketime FAKETIME spec (as `faketime -f <spec>`): the server runs with libfaketime preloaded. */
  faketime?: string;
  /** SQLite (a file in the data dir) or PostgreSQL (a fresh database). Default: defaultDatabase(). */
  database?: E2eDatabaseKind;
  /** A second instance on this portal's database, with its secret (the README's scale-out setup). */
  sameDatabaseAs?: Portal;
  /** Plain `next start` instead of scripts/server.mjs (no entry server: the middleware alone gates). */
  nextStart?: boolean;
  /** `npm start`'s own entry (node scripts/start.mjs: build check, then scripts/server.mjs in the same process). */
  npmStart?: boolean;
  /**
   * The host name in `url` and PORTCULLIS_ORIGIN, e.g. `portal.example.test`, for specs whose
   * browser maps it to 127.0.0.1 (`--host-resolver-rules`); the server still listens on
   * 127.0.0.1 only. Default: 127.0.0.1.
   */
  originHost?: string;
}

export interface Portal {
  /** http://127.0.0.1:PORT (or http://<originHost>:PORT), no trailing slash. */
  url: string;
  port: number;
  dataDir: string;
  databaseUrl: string;
  database: E2eDatabaseKind;
  secret: string;
  logFile: string;
  stop(): Promise<void>;
  /** Stops and starts again with the same data dir, secret and port; env merges, faketime replaces when given. */
  restart(opts?: StartOptions): Promise<Portal>;
  /** Sends `signal` to the server process alone (as an orchestrator would), without waiting. */
  signal(signal: NodeJS.Signals): void;
  /** Waits for the server process to exit on its own: its exit code, or null if a signal killed it. */
  exited(timeoutMs: number): Promise<number | null>;
}

const appDir = process.env.PORTCULLIS_APP_DIR
  ? path.resolve(process.env.PORTCULLIS_APP_DIR)
  : path.resolve(__dirname, '..', '..', '..');
const START_TIMEOUT_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STOP_GRACE_MS = 5_000;

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
  if (process.env.PORTCULLIS_E2E_KEEP !== '1') {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Whether a live (not zombie) process is left in the group; zombies may wait long for init here. */
function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const pid of entries) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

/** Waits until the child and every process in its group are gone, or the deadline passes. */
async function groupGone(child: ChildProcess, deadline: number): Promise<boolean> {
  await Promise.race([exited(child), sleep(Math.max(0, deadline - Date.now()))]);
  // The group outlives its leader when `faketime` (which forks node and waits) is killed first.
  while (child.pid !== undefined && groupAlive(child.pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return child.exitCode !== null || child.signalCode !== null;
}


/** libfaketime from Debian's `faketime` package (or FAKETIME_LIB), if present. */
function faketimeLib(): string | undefined {
  if (process.env.FAKETIME_LIB) return process.env.FAKETIME_LIB;
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib']) {
    const lib = path.join(dir, 'faketime', 'libfaketime.so.1');
    if (fs.existsSync(lib)) return lib;
  }
  return undefined;
}

export async function startPortal(opts: StartOptions = {}): Promise<Portal> {
  const nextBin = path.join(appDir, 'node_modules', 'next', 'dist', 'bin', 'next');
  const serverEntry = path.join(appDir, 'scripts', 'server.mjs');
  if (!fs.existsSync(path.join(appDir, '.next', 'BUILD_ID'))) {
    throw new Error(`no build in ${appDir}/.next: run \`npx next build\` first (scripts/test.sh does)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-e2e-'));
  dirs.add(dataDir);
  const port = await freePort();
  const url = `http://${opts.originHost ?? '127.0.0.1'}:${port}`;
  // What the harness itself asks: the server listens on 127.0.0.1, whatever name it goes by.
  const localUrl = `http://127.0.0.1:${port}`;
  const shared = opts.sameDatabaseAs;
  const database = shared?.database ?? opts.database ?? defaultDatabase();
  const secret = shared?.secret ?? randomBytes(32).toString('hex');
  const logFile = path.join(dataDir, 'server.log');
  // This portal's own PostgreSQL database (none when it shares another portal's).
  const pgDatabase: E2eDatabase | undefined = !shared && database === 'postgres' ? await createE2eDatabase() : undefined;
  const databaseUrl = shared?.databaseUrl ?? pgDatabase?.url ?? `file:${path.join(dataDir, 'portcullis.db')}`;

  let env: Record<string, string> = { ...(opts.env ?? {}) };
  let faketime = opts.faketime;
  let child: ChildProcess | undefined;

  const portal: Portal = {
    url,
    port,
    dataDir,
    secret,
    logFile,
    databaseUrl,
    database,
    async stop() {
      await stopServer();
      await pgDatabase?.drop();
    },
    async restart(next: StartOptions = {}) {
      await stopServer();
      env = { ...env, ...(next.env ?? {}) };
      if ('faketime' in next) faketime = next.faketime;
      await launch();
      return portal;
    },
    signal(signal) {
      if (!child?.pid) throw new Error('the portal is not running');
      process.kill(child.pid, signal);
    },
    async exited(timeoutMs) {
      const c = child;
      if (!c) throw new Error('the portal is not running');
      if (!(await groupGone(c, Date.now() + timeoutMs))) throw new Error(`the portal did not exit within ${timeoutMs} ms; ${logFile}:\n${tailOfLog(logFile)}`);
      live.delete(c);
      child = undefined;
      return c.exitCode;
    },
  };

  async function stopServer() {
    const c = child;
    child = undefined;
    if (!c) return;
    killGroup(c, 'SIGTERM');
    if (!(await groupGone(c, Date.now() + STOP_GRACE_MS))) {
      killGroup(c, 'SIGKILL');
      await groupGone(c, Date.now() + STOP_GRACE_MS);
    }
    live.delete(c);
  }

  async function launch() {
    const childEnv: Record<string, string> = {
      ...(process.env as Record<string, string>),
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      PORT: String(port),
      HOST: '127.0.0.1',
      PORTCULLIS_ORIGIN: url,
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_SECRET: secret,
      DATABASE_URL: databaseUrl,
      ...env,
    };
    portal.databaseUrl = childEnv.DATABASE_URL;

    // The production entry (scripts/server.mjs: Next.js behind node:http, which hands the
    // app the client address) when the app has one, else plain `next start`.
    const nodeArgs = opts.npmStart
      ? [path.join(appDir, 'scripts', 'start.mjs')]
      : fs.existsSync(serverEntry) && !opts.nextStart
        ? [serverEntry]
        : [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'];
    let cmd = process.execPath;
    let args = nodeArgs;
    if (faketime !== undefined) {
      // Fake only the wall clock: a faked CLOCK_MONOTONIC stalls or races libuv's timers.
      childEnv.FAKETIME_DONT_FAKE_MONOTONIC = '1';
      childEnv.DONT_FAKE_MONOTONIC = '1'; // libfaketime < 0.9.7
      childEnv.FAKETIME_NO_CACHE = '1';
      const lib = faketimeLib();
      if (lib) {
        // What `faketime -f SPEC` does, without its wrapper process: node stays our direct
        // child (the wrapper forks it, and its orphan lingers as a zombie until init reaps it).
        childEnv.LD_PRELOAD = [lib, process.env.LD_PRELOAD].filter(Boolean).join(':');
        childEnv.FAKETIME = faketime;
      } else {
        cmd = 'faketime';
        args = ['-f', faketime, process.execPath, ...nodeArgs];
      }
    }

    const log = fs.openSync(logFile, 'a');
    fs.writeSync(log, `\n--- ${new Date().toISOString()} ${cmd} ${args.join(' ')}${faketime !== undefined ? ` (faketime ${faketime})` : ''}\n`);
    const c = spawn(cmd, args, { cwd: appDir, env: childEnv as NodeJS.ProcessEnv, stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    live.add(c);
    child = c;

    let spawnError: Error | undefined;
    c.once('error', (e) => (spawnError = e));
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError = '';
    while (Date.now() < deadline) {
      if (spawnError || c.exitCode !== null || c.signalCode !== null) {
        live.delete(c);
        child = undefined;
        const why = spawnError ? `could not spawn ${cmd}: ${spawnError.message}` : `exited (code ${c.exitCode}, signal ${c.signalCode})`;
        throw new Error(`portal ${why} before it answered; ${logFile}:\n${tailOfLog(logFile)}`);
      }
      try {
        const status = await probe(`${localUrl}/login`);
        if (status < 500) return;
        lastError = `GET /login answered ${status}`;
      } catch (e) {
        lastError = (e as Error).message;
      }
      await sleep(250);
    }
    await stopServer();
    throw new Error(`portal did not answer GET /login within ${START_TIMEOUT_MS / 1000} s (${lastError}); ${logFile}:\n${tailOfLog(logFile)}`);
  }

  try {
    await launch();
  } catch (err) {
    await pgDatabase?.drop().catch(() => undefined);
    throw err;
  }
  return portal;
}
