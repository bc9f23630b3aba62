import fs from 'node:fs';
import path from 'node:path';
import { benchRoot, sleep, startApp, type RunningApp } from './app';

/** What bench/support/probe.cjs counted in a server between two snapshots. */
export interface ProbeCounts {
  requests: number;
  sql: number;
  sessionSelects: number;
  sessionWrites: number;
  argon2: number;
  argon2SyncUs: number;
  pbkdf2: number;
  scrypt: number;
  hkdf: number;
  webcryptoDerive: number;
  sessionSqlSamples: string[];
}

export interface ProbedApp extends RunningApp {
  /** Counts since the previous snapshot (or the start), and a fresh start. */
  snapshot(): Promise<ProbeCounts>;
}

export const probeScript = path.join(__dirname, 'probe.cjs');

/** Serves a built copy with the counting probe preloaded. Never used for throughput runs. */
export async function startProbedApp(name: string, dir: string, env: Record<string, string> = {}): Promise<ProbedApp> {
  const file = path.join(fs.mkdtempSync(path.join(benchRoot, `probe-${name}-`)), 'counts.json');
  const app = await startApp(name, dir, {
    nodeArgs: ['--require', probeScript],
    env: { ...env, PORTCULLIS_BENCH_PROBE_FILE: file },
  });
  return {
    ...app,
    async snapshot() {
      fs.rmSync(file, { force: true });
      process.kill(app.pid, 'SIGUSR2');
      const deadline = Date.now() + 5_000;
      while (!fs.existsSync(file)) {
        if (Date.now() > deadline) throw new Error(`${name}: the probe wrote no counts (${app.logFile})`);
        await sleep(20);
      }
      return JSON.parse(fs.readFileSync(file, 'utf8')) as ProbeCounts;
    },
  };
}
