/**
 * The gate's cost on a protected dynamic page (goals: the middleware gate ≥ 0.95 of an empty
 * middleware's requests/s and ≥ 0.9 of no middleware's; the gate in the entry server ≥ 0.95
 * of no middleware's).
 *
 *   npx tsx bench/gate.ts [--rounds 20] [--round-ms 1250] [--concurrency 8] [--rebuild] [--src DIR]
 *   npx tsx bench/gate.ts --micro-only      # just the in-process timing of the gate handler
 *
 * Builds three copies of the app (bench/support/app.ts; a build is reused while its sources
 * are unchanged): `gate` (middleware.ts as it is), `empty` (middleware.ts replaced by one
 * with the same matcher and runtime that only continues) and `none` (no middleware). Serves
 * each as `npm start` does, and the `gate` build twice: `entry` as `npm start` serves it
 * (scripts/server.mjs decides /portal ahead of Next.js, lib/gate/entry-gate.ts, and the
 * middleware does not run for it) and `gate` with PORTCULLIS_ENTRY_GATE=off (the middleware
 * decides, as under `next start`; the other two variants run with it off too). It signs one user in (no MFA required, so every decision is allow)
 * and drives GET /portal with keep-alive sockets at a fixed concurrency, in interleaved
 * rounds so that drift on a shared machine hits every variant alike. Reports requests/s per
 * variant (median of rounds) and the ratios gate/empty and gate/none (median of the ratios
 * within each round). It also reports the server's CPU time per request (all threads, from
 * /proc), which moves less with other load than wall-clock rates do; pass/fail is judged on
 * the requests/s ratios, since the goals are stated in requests/s.
 *
 * Then checks the gate's path: servers with bench/support/probe.cjs preloaded count SQL
 * statements, session-row lookups and key derivations per request with and without the
 * gate; and an in-process micro-bench times createMfaGate()'s handler per call.
 *
 * Prints one JSON line per result and rewrites the "## gate" section of bench/RESULTS.md.
 */
import { createHook } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { NextRequest, NextResponse } from 'next/server';
import { createDb, migrateToLatest } from '../db';
import { cliActor } from '../lib/admin/actor';
import { createUser } from '../lib/admin/users';
import { decodeSessionCookie, encodeSessionCookie, sessionCookieName } from '../lib/auth/cookie';
import { createSession } from '../lib/auth/sessions';
import { systemClock } from '../lib/clock';
import { createMfaGate } from '../lib/gate';
import { evaluateAccess } from '../lib/gate/access';
import { createEntryGate } from '../lib/gate/entry-gate';
import { portalResources } from '../portcullis.config';
import {
  benchRoot,
  buildVariant,
  processCpuNs,
  removeMiddleware,
  replaceWithEmptyMiddleware,
  seedUsers,
  startApp,
  type BuiltApp,
  type RunningApp,
} from './support/app';
import { closedLoop, keepAliveAgent, portalCheck, request, signIn, type LoopStats } from './support/http';
import { startProbedApp, type ProbeCounts } from './support/probe';
import { emit, machineInfo, machineLine, passFail, writeResultsSection } from './support/results';
import { median, medianInterval, round } from './support/stats';
import { replaceProcessSingleton } from '../lib/process-singletons';
import { cpuPerCall } from './support/cpu';

const GOAL_VS_EMPTY = 0.95;
const GOAL_VS_NONE = 0.9;
const GOAL_ENTRY_VS_NONE = 0.95;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    'round-ms': { type: 'string', default: '1250' },
    'warmup-ms': { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '8' },
    'probe-requests': { type: 'string', default: '200' },
    'micro-ms': { type: 'string', default: '3000' },
    rebuild: { type: 'boolean', default: false },
    // Only the in-process micro-bench (no builds, no servers, RESULTS.md untouched).
    'micro-only': { type: 'boolean', default: false },
    src: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const ROUND_MS = Number(args['round-ms']);
const WARMUP_MS = Number(args['warmup-ms']);
const CONCURRENCY = Number(args.concurrency);
const PROBE_REQUESTS = Number(args['probe-requests']);
const MICRO_MS = Number(args['micro-ms']);

const VARIANTS = ['gate', 'entry', 'empty', 'none'] as const;
type Variant = (typeof VARIANTS)[number];
const USER = { username: 'bench-gate', password: 'bench-gate-password-1' };

const log = (line: string) => console.error(`[bench:gate] ${line}`);

interface Served {
  variant: Variant;
  app: RunningApp;
  cookie: string;
  agent: ReturnType<typeof keepAliveAgent>;
}

/** Only the `entry` variant runs the entry server's gate; the others measure Next.js's middleware (or none). */
const entryGateEnv = (variant: Variant) => ({ PORTCULLIS_ENTRY_GATE: variant === 'entry' ? 'on' : 'off' });

async function serve(variant: Variant, built: BuiltApp): Promise<Served> {
  const app = await startApp(variant, built.dir, { env: entryGateEnv(variant) });
  await seedUsers(app.databaseUrl, [USER]);
  const cookie = await signIn(app.url, USER.username, USER.password);
  return { variant, app, cookie, agent: keepAliveAgent(CONCURRENCY) };
}

async function load(s: Served, durationMs: number): Promise<LoopStats & { cpuMs: number }> {
  const cpu0 = processCpuNs(s.app.pid) ?? Number.NaN;
  const stats = await closedLoop({
    concurrency: CONCURRENCY,
    durationMs,
    next: () => request(s.app.url, { path: '/portal', headers: { cookie: s.cookie } }, s.agent),
    check: portalCheck,
  });
  const cpu1 = processCpuNs(s.app.pid) ?? Number.NaN;
  return { ...stats, cpuMs: (cpu1 - cpu0) / 1e6 };
}

/** What the variant answers without a session: the gate's 303, or the page's own redirect. */
async function anonymousAnswer(s: Served): Promise<string> {
  const res = await request(s.app.url, { path: '/portal' }, false);
  return `${res.status} ${res.headers.location ?? ''}`.trim();
}

// ---------------------------------------------------------------------------------------
// Per-request counts with the probe preloaded.

interface PathCounts {
  perRequest: Record<'sql' | 'sessionSelects' | 'sessionWrites' | 'argon2' | 'pbkdf2' | 'scrypt' | 'hkdf' | 'webcryptoDerive', number>;
  requests: number;
  samples: string[];
}

async function countPath(variant: Variant, built: BuiltApp): Promise<PathCounts> {
  const app = await startProbedApp(`probe-${variant}`, built.dir, entryGateEnv(variant));
  try {
    await seedUsers(app.databaseUrl, [USER]);
    const cookie = await signIn(app.url, USER.username, USER.password);
    const agent = keepAliveAgent(1);
    for (let i = 0; i < 20; i++) await request(app.url, { path: '/portal', headers: { cookie } }, agent);
    await app.snapshot(); // start from zero
    for (let i = 0; i < PROBE_REQUESTS; i++) {
      const res = await request(app.url, { path: '/portal', headers: { cookie } }, agent);
      const problem = portalCheck(res);
      if (problem) throw new Error(`${variant} probe: ${problem}`);
    }
    const c: ProbeCounts = await app.snapshot();
    agent.destroy();
    if (c.requests !== PROBE_REQUESTS) log(`${variant} probe saw ${c.requests} requests for ${PROBE_REQUESTS} sent`);
    const per = (n: number) => round(n / PROBE_REQUESTS, 3);
    return {
      requests: c.requests,
      samples: c.sessionSqlSamples,
      perRequest: {
        sql: per(c.sql),
        sessionSelects: per(c.sessionSelects),
        sessionWrites: per(c.sessionWrites),
        argon2: per(c.argon2),
        pbkdf2: per(c.pbkdf2),
        scrypt: per(c.scrypt),
        hkdf: per(c.hkdf),
        webcryptoDerive: per(c.webcryptoDerive),
      },
    };
  } finally {
    await app.stop();
  }
}

// ---------------------------------------------------------------------------------------
// In-process micro-bench of the gate handler.

interface Micro {
  gateUs: number;
  /** The entry server's gate (lib/gate/entry-gate.ts) per call. */
  entryUs: number;
  emptyUs: number;
  decodeCookieUs: number;
  evaluateAccessUs: number;
  queriesPerGateCall: number;
  /** Promises created per call: each one runs AsyncLocalStorage's hook inside Next.js on Node 20. */
  promisesPerGateCall: number;
  promisesPerDecode: number;
  promisesPerEvaluate: number;
  decision: string;
}


async function microBench(): Promise<Micro> {
  const dir = fs.mkdtempSync(path.join(benchRoot, 'micro-'));
  try {
    process.env.PORTCULLIS_SECRET ??= 'bench-micro-secret-0123456789abcdef0123456789';
    process.env.PORTCULLIS_ORIGIN = 'http://127.0.0.1:3000';
    const db = createDb(`file:${path.join(dir, 'micro.db')}`, dir);
    await migrateToLatest(db);
    const { kysely } = db;
    // Count statements as bench/support/probe.cjs does in the servers: at better-sqlite3.
    let queries = 0;
    const scratch = new SQLite(':memory:');
    const statementProto = Object.getPrototypeOf(scratch.prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
    scratch.close();
    for (const method of ['run', 'get', 'all', 'iterate']) {
      const original = statementProto[method]!;
      statementProto[method] = function (this: unknown, ...a: unknown[]) {
        queries++;
        return original.apply(this, a);
      };
    }
    // The gate's getDb() returns the process's database singleton (db/index.ts).
    replaceProcessSingleton('db', Promise.resolve(db));
    const { id } = await createUser(kysely, USER, cliActor, systemClock);
    const token = await createSession(kysely, id, { ip: '127.0.0.1', userAgent: 'bench' }, systemClock);
    const cookie = `${sessionCookieName()}=${await encodeSessionCookie(token)}`;
    const headers = { cookie, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36' };
    const newRequest = () => new NextRequest('http://127.0.0.1:3000/portal', { headers });

    const gate = createMfaGate({ resources: portalResources });
    const entry = createEntryGate({ resources: portalResources });
    const entryRequest = () => ({
      method: 'GET',
      target: '/portal',
      cookieHeader: cookie,
      ip: '127.0.0.1',
      userAgent: headers['user-agent'],
      headers: { get: () => null },
    });
    const entryFirst = await entry(entryRequest());
    if (entryFirst.kind !== 'allow') throw new Error(`micro-bench: the entry gate did not allow the seeded user (${entryFirst.kind})`);
    const empty = async (_req: NextRequest) => NextResponse.next();
    const first = await gate(newRequest());
    const decision = first.headers.get('x-middleware-next') === '1' ? 'allow (continue)' : `${first.status} ${first.headers.get('location')}`;
    if (decision !== 'allow (continue)') throw new Error(`micro-bench: the gate did not allow the seeded user (${decision})`);

    const facts = { ip: '127.0.0.1', userAgent: headers['user-agent'] };
    const cookieValue = cookie.slice(cookie.indexOf('=') + 1);
    await cpuPerCall(300, 8, () => gate(newRequest()));
    await cpuPerCall(200, 8, () => empty(newRequest()));
    const gateUs: number[] = [];
    const entryUs: number[] = [];
    const emptyUs: number[] = [];
    const decodeUs: number[] = [];
    const evaluateUs: number[] = [];
    let gateCalls = 0;
    let gateQueries = 0;
    const slice = MICRO_MS / 3 / 3;
    for (let r = 0; r < 3; r++) {
      const q0 = queries;
      let calls = 0;
      gateUs.push(await cpuPerCall(slice, 8, () => (calls++, gate(newRequest()))));
      gateQueries += queries - q0;
      gateCalls += calls;
      emptyUs.push(await cpuPerCall(slice / 2, 8, () => empty(newRequest())));
      entryUs.push(await cpuPerCall(slice, 8, () => entry(entryRequest())));
      decodeUs.push(await cpuPerCall(slice, 8, () => decodeSessionCookie(cookieValue)));
      evaluateUs.push(await cpuPerCall(slice, 8, () => evaluateAccess(db, token, 'portal', facts, systemClock)));
    }
    let promises = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'PROMISE') promises++;
      },
    });
    const promisesPer = async (fn: () => Promise<unknown>) => {
      promises = 0;
      hook.enable();
      for (let i = 0; i < 100; i++) await fn();
      hook.disable();
      return round(promises / 100, 1);
    };
    const promisesPerGateCall = await promisesPer(() => gate(newRequest()));
    const promisesPerDecode = await promisesPer(() => decodeSessionCookie(cookieValue));
    const promisesPerEvaluate = await promisesPer(() => evaluateAccess(db, token, 'portal', facts, systemClock));
    await db.close();
    const us = (xs: number[]) => round(median(xs), 1);
    return {
      gateUs: us(gateUs),
      entryUs: us(entryUs),
      emptyUs: us(emptyUs),
      decodeCookieUs: us(decodeUs),
      evaluateAccessUs: us(evaluateUs),
      queriesPerGateCall: round(gateQueries / gateCalls, 3),
      promisesPerGateCall,
      promisesPerDecode,
      promisesPerEvaluate,
      decision,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const machine = machineInfo();
  if (args['micro-only']) {
    fs.mkdirSync(benchRoot, { recursive: true });
    emit('gate', 'gate handler in process', { ...(await microBench()) });
    return;
  }
  const started = Date.now();
  fs.mkdirSync(benchRoot, { recursive: true });
  log(machineLine(machine));

  const builds = {} as Record<Exclude<Variant, 'entry'>, BuiltApp>;
  builds.gate = await buildVariant('gate', { src: args.src, rebuild: args.rebuild, log });
  builds.empty = await buildVariant('empty', { src: args.src, rebuild: args.rebuild, log, mutate: replaceWithEmptyMiddleware });
  builds.none = await buildVariant('none', { src: args.src, rebuild: args.rebuild, log, mutate: removeMiddleware });
  const buildMs = Date.now() - started;

  const served = {} as Record<Variant, Served>;
  const buildOf = (v: Variant) => builds[v === 'entry' ? 'gate' : v];
  for (const v of VARIANTS) served[v] = await serve(v, buildOf(v));
  const anonymous = {} as Record<Variant, string>;
  for (const v of VARIANTS) anonymous[v] = await anonymousAnswer(served[v]);
  log(`without a session: ${VARIANTS.map((v) => `${v} → ${anonymous[v]}`).join('; ')}`);
  if (!anonymous.gate.startsWith('303 ')) throw new Error(`the gate build does not answer /portal with the gate's 303: ${anonymous.gate}`);
  if (!anonymous.entry.startsWith('303 ')) throw new Error(`the entry variant does not answer /portal with the gate's 303: ${anonymous.entry}`);
  if (anonymous.empty.startsWith('303 ') || anonymous.none.startsWith('303 ')) {
    throw new Error('a variant without the gate answered with the gate\'s 303; are the builds what they claim?');
  }

  log(`warming up ${WARMUP_MS} ms each`);
  for (const v of VARIANTS) {
    const w = await load(served[v], WARMUP_MS);
    if (w.failed) throw new Error(`${v} warm-up: ${w.failed} failed (${w.firstFailure})`);
  }

  const rps: Record<Variant, number[]> = { gate: [], entry: [], empty: [], none: [] };
  const p50: Record<Variant, number[]> = { gate: [], entry: [], empty: [], none: [] };
  const entryVsNone: number[] = [];
  const entryVsGate: number[] = [];
  const cpuEntryVsNone: number[] = [];
  const vsEmpty: number[] = [];
  const vsNone: number[] = [];
  const emptyVsNone: number[] = [];
  // The same ratios per CPU-second of the server, round by round.
  const cpuVsEmpty: number[] = [];
  const cpuVsNone: number[] = [];
  // Server CPU time (all threads) and requests, pooled over the rounds: requests per
  // CPU-second is the capacity a variant leaves, and hardly moves with other load here.
  const cpuMs: Record<Variant, number> = { gate: 0, entry: 0, empty: 0, none: 0 };
  const served200: Record<Variant, number> = { gate: 0, entry: 0, empty: 0, none: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]!);
    const inRound = {} as Record<Variant, number>;
    const perCpuInRound = {} as Record<Variant, number>;
    for (const v of order) {
      const s = await load(served[v], ROUND_MS);
      if (s.failed) throw new Error(`${v} round ${r + 1}: ${s.failed} failed (${s.firstFailure})`);
      inRound[v] = s.perSecond;
      perCpuInRound[v] = s.ok / s.cpuMs;
      cpuMs[v] += s.cpuMs;
      served200[v] += s.ok;
      rps[v].push(s.perSecond);
      p50[v].push(median(s.latenciesMs));
    }
    vsEmpty.push(inRound.gate / inRound.empty);
    vsNone.push(inRound.gate / inRound.none);
    emptyVsNone.push(inRound.empty / inRound.none);
    cpuVsEmpty.push(perCpuInRound.gate / perCpuInRound.empty);
    cpuVsNone.push(perCpuInRound.gate / perCpuInRound.none);
    entryVsNone.push(inRound.entry / inRound.none);
    entryVsGate.push(inRound.entry / inRound.gate);
    cpuEntryVsNone.push(perCpuInRound.entry / perCpuInRound.none);
    log(`round ${r + 1}/${ROUNDS} (${order.join(',')}): ${VARIANTS.map((v) => `${v} ${inRound[v].toFixed(0)}/s`).join(', ')}`);
  }
  for (const v of VARIANTS) {
    served[v].agent.destroy();
    await served[v].app.stop();
  }
  const measureMs = Date.now() - started - buildMs;

  log('counting the gate path with the probe');
  const countsGate = await countPath('gate', builds.gate);
  const countsEntry = await countPath('entry', builds.gate);
  const countsNone = await countPath('none', builds.none);
  log('in-process micro-bench of the gate handler');
  const micro = await microBench();

  const ratioEmpty = median(vsEmpty);
  const ratioNone = median(vsNone);
  const passEmpty = ratioEmpty >= GOAL_VS_EMPTY;
  const passNone = ratioNone >= GOAL_VS_NONE;
  const ratioEntryNone = median(entryVsNone);
  const passEntry = ratioEntryNone >= GOAL_ENTRY_VS_NONE;
  const entryLookups = round(countsEntry.perRequest.sessionSelects - countsNone.perRequest.sessionSelects, 3);
  const gateLookups = round(countsGate.perRequest.sessionSelects - countsNone.perRequest.sessionSelects, 3);
  const kdfOnGatePath = {
    argon2: round(countsGate.perRequest.argon2 - countsNone.perRequest.argon2, 3),
    pbkdf2: round(countsGate.perRequest.pbkdf2 - countsNone.perRequest.pbkdf2, 3),
    scrypt: round(countsGate.perRequest.scrypt - countsNone.perRequest.scrypt, 3),
    hkdf: round(countsGate.perRequest.hkdf - countsNone.perRequest.hkdf, 3),
  };
  const passLookups = gateLookups <= 1 && micro.queriesPerGateCall <= 1;
  const passKdf = kdfOnGatePath.argon2 === 0 && kdfOnGatePath.pbkdf2 === 0 && kdfOnGatePath.scrypt === 0;
  const medianRps = (v: Variant) => Math.round(median(rps[v]));
  const perCpuSecond = (v: Variant) => served200[v] / (cpuMs[v] / 1000);
  const cpuRatioEmpty = perCpuSecond('gate') / perCpuSecond('empty');
  const cpuRatioNone = perCpuSecond('gate') / perCpuSecond('none');
  const cpuPerRequestUs = (v: Variant) => (cpuMs[v] * 1000) / served200[v];
  // What gate/empty would be if the gate cost the server what its handler costs in process.
  const predictedRatio = cpuPerRequestUs('empty') / (cpuPerRequestUs('empty') + (micro.gateUs - micro.emptyUs));

  emit('gate', 'rps', {
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    roundMs: ROUND_MS,
    ...Object.fromEntries(VARIANTS.map((v) => [v, medianRps(v)])),
  });
  emit('gate', 'server CPU per request', {
    ...Object.fromEntries(VARIANTS.map((v) => [`${v}Us`, Math.round(cpuPerRequestUs(v))])),
    gateOverEmpty: round(cpuRatioEmpty),
    gateOverNone: round(cpuRatioNone),
  });
  const ci = (xs: number[]) => medianInterval(xs)?.map((x) => round(x)) ?? null;
  emit('gate', 'gate/empty', {
    ratio: round(ratioEmpty),
    ci95: ci(vsEmpty),
    goal: GOAL_VS_EMPTY,
    pass: passEmpty,
    perCpuSecond: { ratio: round(median(cpuVsEmpty)), ci95: ci(cpuVsEmpty) },
    rounds: vsEmpty.map((x) => round(x)),
  });
  emit('gate', 'gate/none', {
    ratio: round(ratioNone),
    ci95: ci(vsNone),
    goal: GOAL_VS_NONE,
    pass: passNone,
    perCpuSecond: { ratio: round(median(cpuVsNone)), ci95: ci(cpuVsNone) },
    rounds: vsNone.map((x) => round(x)),
  });
  emit('gate', 'entry/none (the gate in the entry server)', {
    ratio: round(ratioEntryNone),
    ci95: ci(entryVsNone),
    goal: GOAL_ENTRY_VS_NONE,
    pass: passEntry,
    perCpuSecond: { ratio: round(median(cpuEntryVsNone)), ci95: ci(cpuEntryVsNone) },
    entryOverGate: round(median(entryVsGate)),
    sessionLookupsAdded: entryLookups,
    rounds: entryVsNone.map((x) => round(x)),
  });
  emit('gate', 'empty/none (the middleware machinery alone)', {
    ratio: round(median(emptyVsNone)),
    cpuRatio: round(perCpuSecond('empty') / perCpuSecond('none')),
  });
  emit('gate', 'session lookups on the gate path', {
    perRequest: gateLookups,
    withGate: countsGate.perRequest,
    withoutGate: countsNone.perRequest,
    queriesPerGateCallInProcess: micro.queriesPerGateCall,
    goal: '<= 1',
    pass: passLookups,
  });
  emit('gate', 'key derivation on the gate path', { perRequest: kdfOnGatePath, passwordGrade: !passKdf, pass: passKdf });
  emit('gate', 'gate handler in process', { ...micro, predictedGateOverEmpty: round(predictedRatio) });
  const predictedEntry = cpuPerRequestUs('none') / (cpuPerRequestUs('none') + micro.entryUs);
  emit('gate', 'entry gate in process', { entryUs: micro.entryUs, predictedEntryOverNone: round(predictedEntry) });

  const f = (n: number) => n.toLocaleString('en-US');
  const interval = (xs: number[]) => {
    const i = medianInterval(xs);
    return i ? `95% CI of the median ${i[0].toFixed(3)}–${i[1].toFixed(3)}` : 'too few rounds for a 95% CI';
  };
  // Pass/fail is read off the median, as the goals are stated; the interval says whether
  // this machine's noise could have put it on the other side.
  const verdict = (value: number, xs: number[], goal: number) => {
    const i = medianInterval(xs);
    const sure = i ? i[0] >= goal || i[1] < goal : false;
    return `≥ ${goal} ${passFail(value >= goal)}${sure ? '' : ' (the interval spans the goal)'}`;
  };
  const pr = countsGate.perRequest;
  const pn = countsNone.perRequest;
  writeResultsSection(
    'gate',
    [
      '## gate',
      '',
      `\`npx tsx bench/gate.ts\` — ${new Date().toISOString()}, ${machineLine(machine)}.`,
      `GET /portal (signed in, no MFA required: the decision is allow), ${CONCURRENCY} keep-alive connections, ` +
        `${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s per variant after ${WARMUP_MS / 1000} s of warm-up; ` +
        `builds ${builds.gate.reused ? 'reused' : 'made'} from sources ${builds.gate.hash}; ` +
        `${Math.round(buildMs / 1000)} s building, ${Math.round(measureMs / 1000)} s serving.`,
      '',
      '| measure | value | goal |',
      '| --- | --- | --- |',
      `| requests/s with the gate in middleware.ts (median of rounds) | ${f(medianRps('gate'))} | |`,
      `| requests/s with the gate in the entry server (\`npm start\`: scripts/server.mjs decides, middleware.ts skipped) | ${f(medianRps('entry'))} | |`,
      `| requests/s behind an empty middleware | ${f(medianRps('empty'))} | |`,
      `| requests/s with no middleware | ${f(medianRps('none'))} | |`,
      `| **gate / empty middleware**, requests/s (median of per-round ratios; ${interval(vsEmpty)}) | **${ratioEmpty.toFixed(3)}** | ${verdict(ratioEmpty, vsEmpty, GOAL_VS_EMPTY)} |`,
      `| **gate / no middleware**, requests/s (${interval(vsNone)}) | **${ratioNone.toFixed(3)}** | ${verdict(ratioNone, vsNone, GOAL_VS_NONE)} |`,
      `| **gate in the entry server / no middleware**, requests/s (${interval(entryVsNone)}) | **${ratioEntryNone.toFixed(3)}** | ${verdict(ratioEntryNone, entryVsNone, GOAL_ENTRY_VS_NONE)} |`,
      `| gate in the entry server / no middleware, per server-CPU-second (${interval(cpuEntryVsNone)}; pooled ${(perCpuSecond('entry') / perCpuSecond('none')).toFixed(3)}) | ${median(cpuEntryVsNone).toFixed(3)} | |`,
      `| gate in the entry server / gate in middleware.ts, requests/s | ${median(entryVsGate).toFixed(3)} | |`,
      `| empty middleware / no middleware: what running any middleware costs (requests/s; per CPU-second) | ${median(emptyVsNone).toFixed(3)}; ${(perCpuSecond('empty') / perCpuSecond('none')).toFixed(3)} | |`,
      `| server CPU per request gate / entry / empty / none (all threads, pooled over rounds) | ${VARIANTS.map((v) => `${Math.round(cpuPerRequestUs(v))} µs`).join(' / ')} | |`,
      `| requests per server-CPU-second, gate / empty (median of rounds; ${interval(cpuVsEmpty)}; pooled ${cpuRatioEmpty.toFixed(3)}) | ${median(cpuVsEmpty).toFixed(3)} | ${verdict(median(cpuVsEmpty), cpuVsEmpty, GOAL_VS_EMPTY)} |`,
      `| requests per server-CPU-second, gate / none (${interval(cpuVsNone)}; pooled ${cpuRatioNone.toFixed(3)}) | ${median(cpuVsNone).toFixed(3)} | ${verdict(median(cpuVsNone), cpuVsNone, GOAL_VS_NONE)} |`,
      `| median latency gate / entry / empty / none (ms, at ${CONCURRENCY} in flight) | ${VARIANTS.map((v) => median(p50[v]).toFixed(2)).join(' / ')} | |`,
      `| session-row lookups per request added by the gate (probe, ${PROBE_REQUESTS} requests: ${pr.sessionSelects} with, ${pn.sessionSelects} without) | ${gateLookups} | ≤ 1 ${passFail(passLookups)} |`,
      `| session-row lookups per request added by the entry gate (probe: ${countsEntry.perRequest.sessionSelects} with, ${pn.sessionSelects} without) | ${entryLookups} | |`,
      `| SQL statements per request with the gate in middleware.ts / in the entry server / without | ${pr.sql} / ${countsEntry.perRequest.sql} / ${pn.sql} | |`,
      `| password-grade KDF calls per request on the gate path (argon2 / pbkdf2 / scrypt) | ${kdfOnGatePath.argon2} / ${kdfOnGatePath.pbkdf2} / ${kdfOnGatePath.scrypt} | 0 ${passFail(passKdf)} |`,
      `| HKDF-SHA256 calls per request with / without the gate (cookie key derivation, not password-grade) | ${pr.hkdf} / ${pn.hkdf} | |`,
      `| gate handler, CPU per call in process (8 in flight; empty handler ${micro.emptyUs} µs) | ${micro.gateUs} µs | |`,
      `| entry gate (createEntryGate(), no NextRequest), CPU per call in process | ${micro.entryUs} µs | |`,
      `| … of which: decodeSessionCookie / evaluateAccess (1 query + decide) | ${micro.decodeCookieUs} µs / ${micro.evaluateAccessUs} µs | |`,
      `| gate/empty if the gate cost the server only its in-process CPU (vs the empty variant's CPU per request) | ${predictedRatio.toFixed(3)} | |`,
      `| promises created per gate call (cookie decode / evaluateAccess) | ${micro.promisesPerGateCall} (${micro.promisesPerDecode} / ${micro.promisesPerEvaluate}) | |`,
      '',
      `Reading: an empty middleware alone serves ${median(emptyVsNone).toFixed(3)} of the no-middleware rate here ` +
        `(${(perCpuSecond('empty') / perCpuSecond('none')).toFixed(3)} per CPU-second), so what Next.js spends to run any ` +
        `Node.js middleware is ${Math.round((1 - median(emptyVsNone)) * 100)}% of this page before the gate does anything; ` +
        `the gate's own handler costs ${round(micro.gateUs - micro.emptyUs, 1)} µs of CPU per call in process against ` +
        `${Math.round(cpuPerRequestUs('empty'))} µs per request for the whole page, and the server spends ` +
        `${Math.round(cpuPerRequestUs('gate') - cpuPerRequestUs('empty'))} µs more per request with the gate than behind the empty middleware.`,
      '',
      `The gate in the entry server: ${f(medianRps('entry'))} requests/s against ${f(medianRps('none'))} with no middleware ` +
        `(${ratioEntryNone.toFixed(3)}); the server spends ${Math.round(cpuPerRequestUs('entry') - cpuPerRequestUs('none'))} µs more ` +
        `per request than with no middleware (the decision in process: ${micro.entryUs} µs), against ` +
        `${Math.round(cpuPerRequestUs('gate') - cpuPerRequestUs('none'))} µs with the gate in middleware.ts.`,
      '',
      `Without a session the gate build answers \`${anonymous.gate}\` (the gate's redirect); the empty-middleware and ` +
        `no-middleware builds answer \`${anonymous.empty}\` / \`${anonymous.none}\` (the page's own requirePageAccess), ` +
        'which shows each build is the variant it claims to be.',
      '',
      'Method: three copies of the repo are built with `next build` (middleware.ts as is; replaced by ' +
        '`NextResponse.next()` with the same matcher and `runtime: \'nodejs\'`; removed) and served by ' +
        '`scripts/server.mjs` with their own SQLite file; the first build is served twice, with ' +
        '`PORTCULLIS_ENTRY_GATE=off` (gate in middleware.ts, as under `next start`; the empty and no-middleware builds run with it off too) ' +
        'and as `npm start` serves it (the entry server decides /portal, lib/gate/entry-gate.ts, and marks the request so middleware.ts is skipped). One seeded user signs in through `POST /login/submit`; ' +
        `a closed loop keeps ${CONCURRENCY} GET /portal in flight on keep-alive sockets (node:http) and counts 200 ` +
        'responses that carry the page heading. The variants run in interleaved rounds with a rotating order, and ' +
        'the ratios are medians of the per-round ratios, so load from other work on this shared machine falls on ' +
        'all four alike. The path counts come from separate servers started with `bench/support/probe.cjs` ' +
        'preloaded (it wraps better-sqlite3 statements, @node-rs/argon2 and node:crypto key derivations; the ' +
        'throughput servers run without it): the gate build minus the no-middleware build is what the gate adds ' +
        'per request. The page itself checks again (R-D9), so a request with the gate does one lookup in the gate ' +
        'and one in the page. The in-process numbers call `createMfaGate()`\'s handler with a fresh NextRequest ' +
        'against a SQLite file opened by `createDb()`, 8 calls in flight, counting statements at better-sqlite3.',
      '',
    ].join('\n'),
  );
  log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
