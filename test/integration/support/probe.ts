import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { ProbeCounts } from '../../../bench/support/probe';

/**
 * The benches' probe (bench/support/probe.cjs) in this process: it counts what leaves for
 * the database at better-sqlite3's Statement (all statements, session-row reads and
 * writes), as bench/login.ts and bench/verify.ts count a request in a probed server. So a
 * test states what a path costs in the benches' own terms, whatever builds the SQL.
 * SQLite only: that is where the probe counts, as the benches run.
 */
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-probe-')), 'counts.json');
let loaded = false;

function snapshot(): ProbeCounts {
  // The probe writes its counts and starts again from zero on SIGUSR2; emitting the event
  // runs its listener synchronously, without a real signal.
  (process.emit as (event: string) => boolean)('SIGUSR2');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ProbeCounts;
}

/** Runs `fn` and returns what the probe counted while it ran. Calls must not overlap. */
export async function probed<T>(fn: () => Promise<T>): Promise<{ result: T; counts: ProbeCounts }> {
  if (!loaded) {
    process.env.PORTCULLIS_BENCH_PROBE_FILE = file;
    createRequire(import.meta.url)('../../../bench/support/probe.cjs');
    loaded = true;
  }
  snapshot();
  const result = await fn();
  return { result, counts: snapshot() };
}
