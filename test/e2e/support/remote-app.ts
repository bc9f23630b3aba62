/**
 * The second Next.js app of the end-to-end specs: test/fixtures/remote-app, protected by the
 * remote gate (`portcullis/next`), served by `next start` on a free port of 127.0.0.1.
 *
 *   const app = await startRemoteApp({ appHost: 'remote.example.test', portcullisUrl: 'http://127.0.0.1:3000', publicUrl: portal.url });
 *   await page.goto(app.urlFor('/reports'));   // http://remote.example.test:PORT/reports
 *   await app.stop();
 *
 * Builds the fixture first (test/fixtures/remote-app/build.mjs) when it has no build;
 * scripts/test.sh builds it beside the portal. Output goes to <tmp dir>/remote-app.log.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, httpStatus as probe, signalGroup, tailOfLog } from '../../support/local-processes';

const repoDir = path.resolve(__dirname, '..', '..', '..');
export const remoteAppDir = path.join(repoDir, 'test', 'fixtures', 'remote-app');
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const child of live) signalGroup(child, 'SIGKILL');
  if (process.env.PORTCULLIS_E2E_KEEP !== '1') for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Builds the fixture when it has no build yet (about a minute here). */
export function ensureRemoteAppBuild() {
  if (fs.existsSync(path.join(remoteAppDir, '.next', 'BUILD_ID'))) return;
  const result = spawnSync(process.execPath, [path.join(remoteAppDir, 'build.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`building test/fixtures/remote-app failed:\n${result.stdout}\n${result.stderr}`);
}

export interface RemoteApp {
  port: number;
  /** http://<appHost>:PORT, no trailing slash. */
  url: string;
  urlFor(pathAndQuery: string): string;
  logFile: string;
  stop(): Promise<void>;
}

export interface RemoteAppOptions {
  /** The host name the browser uses for the app (mapped to 127.0.0.1 by --host-resolver-rules). */
  appHost: string;
  /** PORTCULLIS_URL: where the app's server reaches Portcullis. */
  portcullisUrl: string;
  /** PORTCULLIS_PUBLIC_URL: Portcullis's browser-facing URL, when it differs. */
  publicUrl?: string;
}

export async function startRemoteApp(opts: RemoteAppOptions): Promise<RemoteApp> {
  ensureRemoteAppBuild();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-remote-app-'));
  dirs.add(dir);
  const logFile = path.join(dir, 'remote-app.log');
  const port = await freePort();
  const nextBin = path.join(repoDir, 'node_modules', 'next', 'dist', 'bin', 'next');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    PORTCULLIS_URL: opts.portcullisUrl,
  };
  if (opts.publicUrl) env.PORTCULLIS_PUBLIC_URL = opts.publicUrl;
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: remoteAppDir,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  live.add(child);

  const stop = async () => {
    if (!live.has(child)) return;
    signalGroup(child, 'SIGTERM');
    const gone = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    await Promise.race([gone, sleep(STOP_GRACE_MS)]);
    signalGroup(child, 'SIGKILL');
    live.delete(child);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      await probe(`http://127.0.0.1:${port}/api/whoami`); // any answer: the server is up
      const url = `http://${opts.appHost}:${port}`;
      return { port, url, urlFor: (p) => `${url}${p}`, logFile, stop };
    } catch (e) {
      lastError = (e as Error).message;
    }
    await sleep(250);
  }
  await stop();
  throw new Error(`the remote app did not start (${lastError}); ${logFile}:\n${tailOfLog(logFile)}`);
}
