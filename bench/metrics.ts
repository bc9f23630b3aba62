/**
 * What recording metrics (lib/metrics) costs a request on the gate's path, in process: the
 * gate-decision counter, the request-duration histogram the entry server fills, and the
 * database-error wrapper every statement passes through (db/error-counting.ts). The goal is
 * the gate's (bench/gate.ts: gate / empty middleware ≥ 0.95); whole-server ratios on a shared
 * 2-core machine swing by more than these costs, so this measures them directly, as CPU per
 * call, and sets them against the server CPU per request that "## gate" recorded.
 *
 *   npx tsx bench/metrics.ts [--rounds 7] [--round-ms 600]
 *
 * Prints one JSON line per result and rewrites the "## metrics" section of bench/RESULTS.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { configureSqlite, createDb, migrateToLatest, type Database } from '../db';
import { FileLockedSqliteDialect } from '../db/sqlite-file-lock';
import { withStatementCache } from '../db/statement-cache';
import { tagDialect } from '../db/dialect';
import { cliActor } from '../lib/admin/actor';
import { createUser } from '../lib/admin/users';
import { encodeSessionCookie, sessionCookieName } from '../lib/auth/cookie';
import { createSession } from '../lib/auth/sessions';
import { systemClock } from '../lib/clock';
import { createEntryGate } from '../lib/gate/entry-gate';
import { metrics } from '../lib/metrics/registry';
import { countGateDecision, observeRequest } from '../lib/metrics/record';
import { replaceProcessSingleton } from '../lib/process-singletons';
import { portalResources } from '../portcullis.config';
import { benchRoot } from './support/app';
import { emit, machineInfo, machineLine, resultsFile, writeResultsSection } from './support/results';
import { median, round } from './support/stats';
import { cpuPerCall, cpuPerSyncCall } from './support/cpu';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    'round-ms': { type: 'string', default: '600' },
  },
});
const ROUNDS = Number(args.rounds);
const ROUND_MS = Number(args['round-ms']);
const log = (line: string) => console.error(`[bench:metrics] ${line}`);

/** "server CPU per request gate / entry / empty / none" from "## gate", if recorded. */
function serverCpuPerRequest(): { entry: number; gate: number } | null {
  const text = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : '';
  const m = /server CPU per request gate \/ entry \/ empty \/ none[^|]*\| ([\d.]+) µs \/ ([\d.]+) µs/.exec(text);
  return m ? { gate: Number(m[1]), entry: Number(m[2]) } : null;
}

async function main(): Promise<void> {
  const machine = machineInfo();
  fs.mkdirSync(benchRoot, { recursive: true });
  const dir = fs.mkdtempSync(path.join(benchRoot, 'metrics-'));
  try {
    process.env.PORTCULLIS_SECRET ??= 'bench-metrics-secret-0123456789abcdef0123456789';
    process.env.PORTCULLIS_ORIGIN = 'http://127.0.0.1:3000';
    const file = path.join(dir, 'metrics.db');
    const db = createDb(`file:${file}`, dir);
    await migrateToLatest(db);
    // The same file without the error-counting wrapper, for the per-statement difference.
    const plain = tagDialect(
      new Kysely<Database>({ dialect: new FileLockedSqliteDialect(file, { database: withStatementCache(configureSqlite(new SQLite(file))) }) }),
      'sqlite',
    );
    replaceProcessSingleton('db', Promise.resolve(db));
    const { id } = await createUser(db.kysely, { username: 'bench-metrics', password: 'bench-metrics-password-1' }, cliActor, systemClock);
    const token = await createSession(db.kysely, id, { ip: '127.0.0.1', userAgent: 'bench' }, systemClock);
    const cookie = `${sessionCookieName()}=${await encodeSessionCookie(token)}`;
    const entry = createEntryGate({ resources: portalResources });
    const request = () => ({ method: 'GET', target: '/portal', cookieHeader: cookie, ip: '127.0.0.1', userAgent: 'Mozilla/5.0 Chrome/126.0', headers: { get: () => null } });
    if ((await entry(request())).kind !== 'allow') throw new Error('the entry gate did not allow the seeded user');

    const counter = metrics().gateDecisions;
    const countingInc = counter.inc;
    const uncounted = () => undefined;
    const select = sql`select 1 as one`;
    await cpuPerCall(300, 8, () => entry(request()));
    await cpuPerCall(200, 8, () => select.execute(db.kysely));
    await cpuPerCall(200, 8, () => select.execute(plain));

    const r = { entryCounted: [] as number[], entryUncounted: [] as number[], wrapped: [] as number[], unwrapped: [] as number[], gateCounter: [] as number[], histogram: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      r.entryCounted.push(await cpuPerCall(ROUND_MS, 8, () => entry(request())));
      counter.inc = uncounted as typeof counter.inc;
      r.entryUncounted.push(await cpuPerCall(ROUND_MS, 8, () => entry(request())));
      counter.inc = countingInc;
      r.wrapped.push(await cpuPerCall(ROUND_MS / 2, 8, () => select.execute(db.kysely)));
      r.unwrapped.push(await cpuPerCall(ROUND_MS / 2, 8, () => select.execute(plain)));
      r.gateCounter.push(cpuPerSyncCall(ROUND_MS / 4, () => countGateDecision('allow', 'portal')));
      r.histogram.push(cpuPerSyncCall(ROUND_MS / 4, () => observeRequest('/portal?x=1', 200, 0.004)));
      log(`round ${i + 1}/${ROUNDS}: entry gate ${r.entryCounted[i]!.toFixed(1)} / ${r.entryUncounted[i]!.toFixed(1)} µs (counted / not); statement ${r.wrapped[i]!.toFixed(2)} / ${r.unwrapped[i]!.toFixed(2)} µs (wrapped / not)`);
    }
    const scrapeMs: number[] = [];
    let scrapeBytes = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      scrapeBytes = (await metrics().registry.metrics()).length;
      scrapeMs.push(performance.now() - t0);
    }

    const us = (xs: number[]) => round(median(xs), 2);
    const gateCounterUs = us(r.gateCounter);
    const histogramUs = us(r.histogram);
    const wrapperUs = round(median(r.wrapped.map((w, i) => w - r.unwrapped[i]!)), 2);
    const entryDeltaUs = round(median(r.entryCounted.map((c, i) => c - r.entryUncounted[i]!)), 2);
    // A page through the entry gate: one decision counted, one request timed, and two statements
    // (the gate's, the page's); a wrapper cost measured below zero counts as zero.
    const perRequestUs = round(gateCounterUs + histogramUs + 2 * Math.max(0, wrapperUs), 2);
    const server = serverCpuPerRequest();
    const ratio = (cpu: number) => round(cpu / (cpu + perRequestUs), 4);
    const result = {
      gateCounterUs,
      histogramUs,
      statementWrapperUs: wrapperUs,
      statementUs: { wrapped: us(r.wrapped), unwrapped: us(r.unwrapped) },
      entryGateUs: { counted: us(r.entryCounted), uncounted: us(r.entryUncounted), difference: entryDeltaUs },
      perRequestUs,
      scrape: { ms: round(median(scrapeMs), 2), bytes: scrapeBytes },
      serverCpuPerRequestUs: server,
      ratioIfOnlyMetricsDiffered: server ? { entry: ratio(server.entry), gate: ratio(server.gate) } : null,
    };
    emit('metrics', 'cost in process', result);

    writeResultsSection(
      'metrics',
      [
        '## metrics',
        '',
        `\`npx tsx bench/metrics.ts\` — ${new Date().toISOString()}, ${machineLine(machine)}. ${ROUNDS} interleaved rounds; medians.`,
        '',
        'What recording metrics adds to a request on the gate\'s path, as CPU per call in process (8 calls in flight for the',
        'async ones). Every variant of "## gate" runs with metrics on (counting is always on; `PORTCULLIS_METRICS_TOKEN` only',
        'opens /metrics), so its ratios include these costs on both sides except the gate-decision counter; this sets them',
        'against the server CPU per request "## gate" measured.',
        '',
        '| measure | value |',
        '| --- | --- |',
        `| gate-decision counter (countGateDecision: bounded labels + prom-client inc) | ${gateCounterUs} µs |`,
        `| request-duration histogram (observeRequest: route group + status class + observe) | ${histogramUs} µs |`,
        `| database-error wrapper per statement (\`select 1\` through createDb ${us(r.wrapped)} µs, without the wrapper ${us(r.unwrapped)} µs; median of per-round differences${wrapperUs <= 0 ? ', below what this machine resolves' : ''}) | ${wrapperUs} µs |`,
        `| a page through the entry gate: one decision, one request timed, two statements | **${perRequestUs} µs** |`,
        `| the entry gate per call, counter on / off (median of per-round differences: ${entryDeltaUs} µs; the rounds spread far wider than the counter costs) | ${us(r.entryCounted)} / ${us(r.entryUncounted)} µs |`,
        server
          ? `| gate / empty if metrics were all that differed, against "## gate"'s server CPU per request (entry ${server.entry} µs; middleware ${server.gate} µs) | ${ratio(server.entry).toFixed(4)}; ${ratio(server.gate).toFixed(4)} |`
          : '| gate / empty if metrics were all that differed | no "## gate" figures to set it against |',
        `| one scrape (registry.metrics(), this process's series) | ${round(median(scrapeMs), 2)} ms, ${scrapeBytes} bytes |`,
        '',
      ].join('\n'),
    );
    await plain.destroy();
    await db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
