/**
 * Builds and serves copies of the portal for the HTTP benches.
 *
 * - `buildVariant()` copies the repo (no node_modules/.next/.git/data) into a temp dir,
 *   hardlinks node_modules (`cp -al`; Turbopack refuses a symlinked one), lets the caller
 *   change the copy (swap or remove middleware.ts), and runs `next build`. A build is
 *   reused while the sources it was made from are unchanged (a hash of their contents).
 * - `startApp()` serves a built copy as `npm start` does (node scripts/server.mjs) on a
 *   free port of 127.0.0.1, with its own data dir, SQLite file and secret.
 * - `seedUsers()` creates users in that database through lib/admin (argon2id hashes).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, migrateToLatest } from '../../db';
import { cliActor } from '../../lib/admin/actor';
import { createUser } from '../../lib/admin/users';
import { systemClock } from '../../lib/clock';
import { freePort, httpStatus as probeStatus, tailOfLog } from '../../test/support/local-processes';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const benchRoot = path.join(os.tmpdir(), 'portcullis-bench');

/** Not part of what gets built: dependencies, build output, git, local data, test reports. */
const copyExcludes = new Set(['node_modules', '.next', '.git', 'data', 'test-results', 'playwright-report']);
/** Copied, but cannot change the build output (keeps the build cache valid across bench edits). */
const hashExcludes = new Set([...copyExcludes, 'bench', 'test', '.ci']);

function walk(dir: string, rel: string, skip: Set<string>, out: string[]): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (rel === '' && skip.has(entry.name)) continue;
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, relPath, skip, out);
    else if (entry.isFile()) out.push(relPath);
  }
}

/** A hash of every source file that goes into a build, plus the variant and the lockfile. */
export function sourceHash(src: string, variant: string): string {
  const files: string[] = [];
  walk(src, '', hashExcludes, files);
  files.sort();
  const h = createHash('sha256').update(`variant:${variant}\n`);
  for (const rel of files) h.update(`${rel}\n`).update(fs.readFileSync(path.join(src, rel)));
  return h.digest('hex').slice(0, 16);
}

export interface BuildOptions {
  /** Repo to copy; defaults to the repo this bench lives in. */
  src?: string;
  /** Rebuild even when a build of the same sources exists. */
  rebuild?: boolean;
  /** Changes the copy before the build (e.g. replace or delete middleware.ts). */
  mutate?: (dir: string) => void;
  log?: (line: string) => void;
}

export interface BuiltApp {
  variant: string;
  dir: string;
  hash: string;
  reused: boolean;
  buildMs: number;
}

export async function buildVariant(variant: string, opts: BuildOptions = {}): Promise<BuiltApp> {
  const src = path.resolve(opts.src ?? repoRoot);
  const dir = path.join(benchRoot, 'builds', variant);
  const hash = sourceHash(src, variant);
  const stamp = path.join(dir, '.bench-build');
  const log = opts.log ?? (() => undefined);
  if (!opts.rebuild && fs.existsSync(path.join(dir, '.next', 'BUILD_ID')) && readText(stamp) === hash) {
    log(`${variant}: reusing build of ${hash} in ${dir}`);
    return { variant, dir, hash, reused: true, buildMs: 0 };
  }
  const started = Date.now();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(src, dir, {
    recursive: true,
    filter: (from) => {
      const rel = path.relative(src, from);
      return rel === '' || !copyExcludes.has(rel.split(path.sep)[0]!);
    },
  });
  const linked = spawnSync('cp', ['-al', path.join(src, 'node_modules'), path.join(dir, 'node_modules')], { encoding: 'utf8' });
  if (linked.status !== 0) throw new Error(`cp -al node_modules failed: ${linked.stderr}`);
  opts.mutate?.(dir);
  log(`${variant}: building ${hash} in ${dir}`);
  const buildLog = path.join(dir, 'build.log');
  const code = await run(process.execPath, [path.join(dir, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build'], dir, buildLog);
  if (code !== 0) throw new Error(`next build of ${variant} failed (exit ${code}); ${buildLog}:\n${tailOfLog(buildLog, 40)}`);
  fs.writeFileSync(stamp, hash);
  return { variant, dir, hash, reused: false, buildMs: Date.now() - started };
}

function run(cmd: string, args: string[], cwd: string, logFile: string): Promise<number> {
  const fd = fs.openSync(logFile, 'w');
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c ?? 1));
  });
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The middleware.ts of `dir` replaced by one that only continues, keeping its `config` (matcher, runtime). */
export function replaceWithEmptyMiddleware(dir: string): void {
  const file = path.join(dir, 'middleware.ts');
  const source = fs.readFileSync(file, 'utf8');
  const at = source.indexOf('export const config');
  if (at === -1) throw new Error('middleware.ts has no `export const config`; cannot build the empty-middleware variant');
  const config = source.slice(at);
  if (!/runtime:\s*'nodejs'/.test(config)) throw new Error("middleware.ts config is not runtime: 'nodejs'");
  fs.writeFileSync(
    file,
    [
      "import { NextResponse } from 'next/server';",
      '',
      '// bench/gate: the same matcher and runtime as the real gate, and no work at all.',
      'export default function middleware() {',
      '  return NextResponse.next();',
      '}',
      '',
      config,
    ].join('\n'),
  );
}

export function removeMiddleware(dir: string): void {
  for (const name of ['middleware.ts', 'proxy.ts']) fs.rmSync(path.join(dir, name), { force: true });
}

export interface RunningApp {
  name: string;
  url: string;
  dir: string;
  dataDir: string;
  databaseUrl: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

export interface StartAppOptions {
  /** Extra node flags for the server process (e.g. ['--require', probe]). */
  nodeArgs?: string[];
  env?: Record<string, string>;
}

const live = new Map<number, ChildProcess>();
const dataDirs = new Set<string>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const pid of live.keys()) killGroup(pid, 'SIGKILL');
    if (process.env.PORTCULLIS_BENCH_KEEP !== '1') for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the server runs in its own process group
  } catch {
    /* already gone */
  }
}

/** Serves a built copy (`node scripts/server.mjs`, as `npm start` does) and waits until /login answers. */
export async function startApp(name: string, dir: string, opts: StartAppOptions = {}): Promise<RunningApp> {
  hookExit();
  const dataDir = fs.mkdtempSync(path.join(benchRoot, `data-${name}-`));
  dataDirs.add(dataDir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const databaseUrl = `file:${path.join(dataDir, 'portcullis.db')}`;
  const logFile = path.join(dataDir, 'server.log');
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.join(dir, 'scripts', 'server.mjs')], {
    cwd: dir,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      PORT: String(port),
      HOST: '127.0.0.1',
      PORTCULLIS_ORIGIN: url,
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_SECRET: randomBytes(32).toString('hex'),
      DATABASE_URL: databaseUrl,
      ...(opts.env ?? {}),
    },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  fs.closeSync(fd);
  const pid = child.pid!;
  live.set(pid, child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const app: RunningApp = {
    name,
    url,
    dir,
    dataDir,
    databaseUrl,
    logFile,
    pid,
    async stop() {
      if (!live.has(pid)) return;
      killGroup(pid, 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!done) {
        killGroup(pid, 'SIGKILL');
        await exited;
      }
      live.delete(pid);
    },
  };

  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      live.delete(pid);
      throw new Error(`${name} server exited before it answered; ${logFile}:\n${tailOfLog(logFile)}`);
    }
    try {
      const status = await probeStatus(`${url}/login`);
      if (status < 500) return app;
      last = `GET /login answered ${status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(200);
  }
  await app.stop();
  throw new Error(`${name} server did not answer within 60 s (${last}); ${logFile}:\n${tailOfLog(logFile)}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface BenchUser {
  username: string;
  password: string;
}

/** Creates active users (argon2id hashes via lib/admin/users) in an app's database. */
export async function seedUsers(databaseUrl: string, users: BenchUser[]): Promise<void> {
  const db = createDb(databaseUrl);
  try {
    await migrateToLatest(db);
    for (const u of users) await createUser(db.kysely, { ...u, state: 'active' }, cliActor, systemClock);
  } finally {
    await db.close();
  }
}

/**
 * CPU time (ns) a process has used so far, all its threads together (the event loop, the
 * libuv pool, V8's helpers), from /proc/<pid>/task/<tid>/schedstat. Linux only; null elsewhere.
 */
export function processCpuNs(pid: number): number | null {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let total = 0;
  for (const tid of tids) {
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return total;
}

/** CPU time (ns) of one thread of a process; the event loop's thread id is the process id. */
export function threadCpuNs(pid: number, tid = pid): number | null {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}
