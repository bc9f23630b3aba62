/**
 * Password sign-in throughput against the raw argon2id verify rate (goal: ≥ 0.85 of it).
 *
 *   npx tsx bench/login.ts [--rounds 6] [--round-ms 3000] [--concurrency 4] [--users 16]
 *                          [--latency-rounds 4] [--phase-ms 4000] [--portal-rate 40] [--rebuild] [--src DIR]
 *
 * Builds the app as it is (bench/support/app.ts; the build bench/gate.ts makes is reused
 * while the sources are unchanged), serves it as `npm start` does and seeds users. Then, in
 * interleaved rounds:
 *   - raw: @node-rs/argon2's own verify() in this process (libuv's thread pool, its default
 *     size), `concurrency` calls in flight, against a hash made by hashPassword() with the
 *     app's parameters. Deliberately not the app's verifyPassword(): that runs on the app's
 *     own worker pool, and the baseline is argon2 alone;
 *   - sign-in: POST /login/submit (the real form post: CSRF check, throttle, lookup, argon2id
 *     verify, session row, audit entry, encrypted cookie), `concurrency` in flight, users in
 *     rotation so no account sees more than a fraction of the traffic, all from 127.0.0.1.
 * The ratio sign-ins/s ÷ verifies/s is reported as the median of the per-round ratios.
 *
 * Then the p99 of GET /portal for a signed-in user, requested on a fixed schedule (open
 * loop), in phases at rest and during a burst of sign-ins, interleaved.
 *
 * Prints one JSON line per result and rewrites the "## login" section of bench/RESULTS.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { verify } from '@node-rs/argon2';
import { hashPassword, passwordHashOptions } from '../lib/auth/password';
import { benchRoot, buildVariant, processCpuNs, seedUsers, startApp, threadCpuNs, type BenchUser } from './support/app';
import {
  closedLoop,
  keepAliveAgent,
  openLoop,
  portalCheck,
  postSignIn,
  request,
  sessionCookieOf,
  signIn,
  type HttpResult,
  type LoopStats,
} from './support/http';
import { startProbedApp } from './support/probe';
import { emit, machineInfo, machineLine, passFail, writeResultsSection } from './support/results';
import { median, medianInterval, percentile, round } from './support/stats';

const GOAL = 0.85;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    'round-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    users: { type: 'string', default: '16' },
    'latency-rounds': { type: 'string', default: '4' },
    'phase-ms': { type: 'string', default: '4000' },
    'portal-rate': { type: 'string', default: '40' },
    'probe-sign-ins': { type: 'string', default: '20' },
    rebuild: { type: 'boolean', default: false },
    src: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const ROUND_MS = Number(args['round-ms']);
const WARMUP_MS = Number(args['warmup-ms']);
const CONCURRENCY = Number(args.concurrency);
const USERS = Number(args.users);
const LATENCY_ROUNDS = Number(args['latency-rounds']);
const PHASE_MS = Number(args['phase-ms']);
const PORTAL_RATE = Number(args['portal-rate']);
const PROBE_SIGN_INS = Number(args['probe-sign-ins']);

const PASSWORD = 'bench-login-password-0123';
const log = (line: string) => console.error(`[bench:login] ${line}`);

function signInCheck(res: HttpResult): string | null {
  if (res.status !== 303) return `POST /login/submit answered ${res.status}`;
  if (res.headers.location !== '/portal') return `sign-in refused: location ${res.headers.location ?? '-'}`;
  if (!sessionCookieOf(res)) return 'sign-in answered 303 without a session cookie';
  return null;
}

/** `concurrency` raw verifies in flight for `durationMs`, and this process's CPU per verify. */
async function rawVerify(hash: string, durationMs: number): Promise<LoopStats & { cpuUs: number }> {
  const cpu0 = process.cpuUsage();
  const stats = await closedLoop({
    concurrency: CONCURRENCY,
    durationMs,
    next: async () => {
      if (!(await verify(hash, PASSWORD))) throw new Error('argon2 verify returned false for the right password');
      return true as const;
    },
  });
  const cpu = process.cpuUsage(cpu0);
  return { ...stats, cpuUs: (cpu.user + cpu.system) / stats.ok };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const started = Date.now();
  fs.mkdirSync(benchRoot, { recursive: true });
  log(machineLine(machine));

  const built = await buildVariant('gate', { src: args.src, rebuild: args.rebuild, log });
  const buildMs = Date.now() - started;
  const app = await startApp('login', built.dir);
  const users: BenchUser[] = Array.from({ length: USERS }, (_, i) => ({
    username: `bench-login-${String(i + 1).padStart(2, '0')}`,
    password: PASSWORD,
  }));
  const reader: BenchUser = { username: 'bench-reader', password: PASSWORD };
  await seedUsers(app.databaseUrl, [...users, reader]);
  const hash = await hashPassword(PASSWORD);
  const params = hash.split('$')[3] ?? '';
  log(`hash parameters ${hash.split('$').slice(1, 4).join(' ')}`);

  const signInAgent = keepAliveAgent(CONCURRENCY);
  let next = 0;
  /** Runs a closed loop against the server and adds its CPU per request: all threads, and the event loop alone. */
  const serverLoop = async (
    durationMs: number,
    send: () => Promise<HttpResult>,
    check: (res: HttpResult) => string | null,
  ): Promise<LoopStats & { cpuUs: number; loopCpuUs: number }> => {
    const cpu0 = processCpuNs(app.pid) ?? Number.NaN;
    const loop0 = threadCpuNs(app.pid) ?? Number.NaN;
    const stats = await closedLoop({ concurrency: CONCURRENCY, durationMs, next: send, check });
    const cpuNs = (processCpuNs(app.pid) ?? Number.NaN) - cpu0;
    const loopNs = (threadCpuNs(app.pid) ?? Number.NaN) - loop0;
    if (stats.failed) throw new Error(`requests failed: ${stats.failed} (${stats.firstFailure})`);
    return { ...stats, cpuUs: cpuNs / 1000 / stats.ok, loopCpuUs: loopNs / 1000 / stats.ok };
  };
  const signIns = (durationMs: number) =>
    serverLoop(
      durationMs,
      () => {
        const user = users[next++ % users.length]!;
        return postSignIn(app.url, user.username, user.password, signInAgent);
      },
      signInCheck,
    );
  // The same route refusing a cross-origin post before reading the form: what Next.js (and
  // the middleware, while its matcher includes the route) costs per request to this route,
  // with none of the sign-in's own work.
  const floor = (durationMs: number) =>
    serverLoop(
      durationMs,
      () =>
        request(
          app.url,
          {
            method: 'POST',
            path: '/login/submit',
            headers: { origin: 'http://elsewhere.example', 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ username: users[0]!.username, password: PASSWORD, returnTo: '/portal' }).toString(),
          },
          signInAgent,
        ),
      (res) => (res.status === 403 ? null : `cross-origin post answered ${res.status}`),
    );

  // The server really verifies: a wrong password is refused (one failure, far below any throttle).
  const wrong = await postSignIn(app.url, reader.username, `${PASSWORD}-wrong`, false);
  if (wrong.status !== 303 || !wrong.headers.location?.startsWith('/login?error=invalid')) {
    throw new Error(`a wrong password was not refused: ${wrong.status} ${wrong.headers.location ?? '-'}`);
  }

  log(`warming up ${WARMUP_MS} ms each`);
  await rawVerify(hash, WARMUP_MS);
  await signIns(WARMUP_MS);
  await floor(WARMUP_MS / 2);

  const rawRates: number[] = [];
  const signInRates: number[] = [];
  const ratios: number[] = [];
  const rawCpu: number[] = [];
  const signInCpu: number[] = [];
  const signInLoopCpu: number[] = [];
  const floorCpu: number[] = [];
  const floorLoopCpu: number[] = [];
  const signInLatency: number[] = [];
  const rawLatency: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['raw', 'sign-in'] as const) : (['sign-in', 'raw'] as const);
    const got: Record<string, number> = {};
    for (const kind of order) {
      if (kind === 'raw') {
        const s = await rawVerify(hash, ROUND_MS);
        got.raw = s.perSecond;
        rawRates.push(s.perSecond);
        rawCpu.push(s.cpuUs);
        rawLatency.push(...s.latenciesMs);
      } else {
        const s = await signIns(ROUND_MS);
        got.signIn = s.perSecond;
        signInRates.push(s.perSecond);
        signInCpu.push(s.cpuUs);
        signInLoopCpu.push(s.loopCpuUs);
        signInLatency.push(...s.latenciesMs);
      }
    }
    const f = await floor(ROUND_MS / 3);
    floorCpu.push(f.cpuUs);
    floorLoopCpu.push(f.loopCpuUs);
    ratios.push(got.signIn! / got.raw!);
    log(`round ${r + 1}/${ROUNDS} (${order.join(',')}): raw ${got.raw!.toFixed(1)}/s, sign-in ${got.signIn!.toFixed(1)}/s`);
  }
  signInAgent.destroy();

  // GET /portal latency, at rest and during a burst of sign-ins, interleaved.
  const readerCookie = await signIn(app.url, reader.username, reader.password);
  // Idle sockets are dropped on our side before the server's 5 s keep-alive timeout would
  // close them under a request in flight (a spurious ECONNRESET between phases).
  const idleSafeAgent = (maxSockets: number) => new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 3_000 });
  const portalAgent = idleSafeAgent(64);
  const burstAgent = idleSafeAgent(CONCURRENCY);
  const portal = (durationMs: number) =>
    openLoop({
      ratePerSecond: PORTAL_RATE,
      durationMs,
      next: () => request(app.url, { path: '/portal', headers: { cookie: readerCookie } }, portalAgent),
      check: portalCheck,
    });
  await portal(1500);
  const rest: number[] = [];
  const burst: number[] = [];
  const burstRates: number[] = [];
  let portalFailures = 0;
  let portalFirstFailure: string | undefined;
  for (let r = 0; r < LATENCY_ROUNDS; r++) {
    const restFirst = r % 2 === 0;
    for (const phase of restFirst ? ['rest', 'burst'] : ['burst', 'rest']) {
      if (phase === 'rest') {
        const s = await portal(PHASE_MS);
        portalFailures += s.failed;
        portalFirstFailure ??= s.firstFailure;
        rest.push(...s.latenciesMs);
      } else {
        const [s, b] = await Promise.all([
          portal(PHASE_MS),
          closedLoop({
            concurrency: CONCURRENCY,
            durationMs: PHASE_MS,
            next: () => {
              const user = users[next++ % users.length]!;
              return postSignIn(app.url, user.username, user.password, burstAgent);
            },
            check: signInCheck,
          }),
        ]);
        if (b.failed) throw new Error(`burst sign-ins failed: ${b.failed} (${b.firstFailure})`);
        portalFailures += s.failed;
        portalFirstFailure ??= s.firstFailure;
        burst.push(...s.latenciesMs);
        burstRates.push(b.perSecond);
      }
    }
    log(`latency round ${r + 1}/${LATENCY_ROUNDS}: ${rest.length} at rest, ${burst.length} during bursts`);
  }
  portalAgent.destroy();
  burstAgent.destroy();
  if (portalFailures) {
    throw new Error(`${portalFailures} GET /portal failed during the latency phases (first: ${portalFirstFailure}); server log ${app.logFile}`);
  }
  await app.stop();
  const measureMs = Date.now() - started - buildMs;

  // What one sign-in does on the server (probe preloaded; not used for the rates above).
  log('counting one sign-in with the probe');
  // The probe counts argon2 calls on the event loop; the app verifies on its own worker
  // threads, which the probe cannot see. This server verifies on libuv instead
  // (PORTCULLIS_PASSWORD_THREADS=0), so the call is counted and the time the event loop
  // spends inside it is measured; nothing else about a sign-in changes.
  const threadsBefore = process.env.PORTCULLIS_PASSWORD_THREADS;
  process.env.PORTCULLIS_PASSWORD_THREADS = '0';
  const probed = await startProbedApp('login-probe', built.dir).finally(() => {
    if (threadsBefore === undefined) delete process.env.PORTCULLIS_PASSWORD_THREADS;
    else process.env.PORTCULLIS_PASSWORD_THREADS = threadsBefore;
  });
  let perSignIn: Record<string, number> = {};
  try {
    await seedUsers(probed.databaseUrl, users.slice(0, 4));
    await probed.snapshot();
    for (let i = 0; i < PROBE_SIGN_INS; i++) {
      const u = users[i % 4]!;
      const problem = signInCheck(await postSignIn(probed.url, u.username, u.password, false));
      if (problem) throw new Error(`probe: ${problem}`);
    }
    const c = await probed.snapshot();
    const per = (n: number) => round(n / PROBE_SIGN_INS, 2);
    perSignIn = {
      sql: per(c.sql),
      argon2: per(c.argon2),
      argon2SyncMs: round(c.argon2SyncUs / 1000 / PROBE_SIGN_INS, 3),
      hkdf: per(c.hkdf),
      sessionWrites: per(c.sessionWrites),
    };
  } finally {
    await probed.stop();
  }

  const rawRate = median(rawRates);
  const signInRate = median(signInRates);
  const ratio = median(ratios);
  const pass = ratio >= GOAL;
  const cpuRatio = median(rawCpu) / median(signInCpu);
  // With every core busy, throughput is inverse to CPU per operation: the ratio can reach at
  // most verify / (verify + what the request costs around it), and that floor alone is known.
  const ceiling = median(rawCpu) / (median(rawCpu) + median(floorCpu));
  const p = (xs: number[], q: number) => round(percentile(xs, q), 1);
  const p99Ratio = percentile(burst, 99) / percentile(rest, 99);

  emit('login', 'sign-ins/s vs argon2id verifies/s', {
    concurrency: CONCURRENCY,
    signInsPerSecond: round(signInRate, 1),
    verifiesPerSecond: round(rawRate, 1),
    ratio: round(ratio),
    ci95: medianInterval(ratios)?.map((x) => round(x)) ?? null,
    goal: GOAL,
    pass,
    rounds: ratios.map((x) => round(x)),
    params,
  });
  emit('login', 'CPU per sign-in vs per verify', {
    serverCpuPerSignInUs: Math.round(median(signInCpu)),
    eventLoopCpuPerSignInUs: Math.round(median(signInLoopCpu)),
    cpuPerRawVerifyUs: Math.round(median(rawCpu)),
    ratio: round(cpuRatio),
    floorCpuPerRequestUs: Math.round(median(floorCpu)),
    floorEventLoopCpuUs: Math.round(median(floorLoopCpu)),
    ceilingFromFloor: round(ceiling),
  });
  emit('login', 'sign-in latency', {
    signInP50Ms: p(signInLatency, 50),
    signInP99Ms: p(signInLatency, 99),
    rawVerifyP50Ms: p(rawLatency, 50),
    rawVerifyP99Ms: p(rawLatency, 99),
  });
  emit('login', 'GET /portal p99 at rest vs during sign-ins', {
    rate: PORTAL_RATE,
    rest: { n: rest.length, p50: p(rest, 50), p95: p(rest, 95), p99: p(rest, 99), max: p(rest, 100) },
    burst: {
      n: burst.length,
      p50: p(burst, 50),
      p95: p(burst, 95),
      p99: p(burst, 99),
      max: p(burst, 100),
      signInsPerSecond: round(median(burstRates), 1),
    },
    p99Ratio: round(p99Ratio, 2),
  });
  emit('login', 'one sign-in on the server', perSignIn);

  const ci = medianInterval(ratios);
  const ciText = ci ? `95% CI of the median ${ci[0].toFixed(3)}–${ci[1].toFixed(3)}` : 'too few rounds for a 95% CI';
  const sure = ci ? ci[0] >= GOAL || ci[1] < GOAL : false;
  writeResultsSection(
    'login',
    [
      '## login',
      '',
      `\`npx tsx bench/login.ts\` — ${new Date().toISOString()}, ${machineLine(machine)}.`,
      `argon2id m=${passwordHashOptions.memoryCost} KiB, t=${passwordHashOptions.timeCost}, p=${passwordHashOptions.parallelism} ` +
        `(\`${params}\`); ${CONCURRENCY} in flight; ${USERS} users in rotation from 127.0.0.1; ${ROUNDS} interleaved rounds of ` +
        `${ROUND_MS / 1000} s each; build ${built.reused ? 'reused' : 'made'} from sources ${built.hash}; ` +
        `${Math.round(buildMs / 1000)} s building, ${Math.round(measureMs / 1000)} s serving.`,
      '',
      '| measure | value | goal |',
      '| --- | --- | --- |',
      `| sign-ins/s through POST /login/submit (median of rounds) | ${signInRate.toFixed(1)} | |`,
      `| raw argon2id verifies/s, same concurrency, same run | ${rawRate.toFixed(1)} | |`,
      `| **sign-ins / raw verifies** (median of per-round ratios; ${ciText}) | **${ratio.toFixed(3)}** | ≥ ${GOAL} ${passFail(pass)}${sure ? '' : ' (the interval spans the goal)'} |`,
      `| CPU per sign-in (server, all threads) / per raw verify (this process) | ${Math.round(median(signInCpu))} µs / ${Math.round(median(rawCpu))} µs (ratio ${cpuRatio.toFixed(3)}) | |`,
      `| … of the sign-in, on the server's event loop | ${Math.round(median(signInLoopCpu))} µs | |`,
      `| CPU per request of the same route refusing a cross-origin post (all threads / event loop) | ${Math.round(median(floorCpu))} µs / ${Math.round(median(floorLoopCpu))} µs | |`,
      `| ratio ceiling with only that per-request floor added to a verify | ${ceiling.toFixed(3)} | |`,
      `| sign-in latency p50 / p99 (raw verify p50 / p99) | ${p(signInLatency, 50)} / ${p(signInLatency, 99)} ms (${p(rawLatency, 50)} / ${p(rawLatency, 99)} ms) | |`,
      `| per sign-in on the server: argon2 calls / SQL statements / HKDF calls | ${perSignIn.argon2} / ${perSignIn.sql} / ${perSignIn.hkdf} | |`,
      `| wall time the event loop spends inside argon2's verify() call itself (not awaiting it; libuv verifier, probe server) | ${perSignIn.argon2SyncMs} ms | |`,
      `| GET /portal at rest: p50 / p95 / **p99** / max (${rest.length} requests at ${PORTAL_RATE}/s) | ${p(rest, 50)} / ${p(rest, 95)} / **${p(rest, 99)}** / ${p(rest, 100)} ms | |`,
      `| GET /portal during sign-in bursts (${median(burstRates).toFixed(1)} sign-ins/s): p50 / p95 / **p99** / max (${burst.length} requests) | ${p(burst, 50)} / ${p(burst, 95)} / **${p(burst, 99)}** / ${p(burst, 100)} ms | |`,
      `| p99 during bursts / p99 at rest | ${p99Ratio.toFixed(2)}× | |`,
      '',
      'Method: one build of the repo served by `scripts/server.mjs` on its own SQLite file. Raw verifies run in ' +
        'this process (@node-rs/argon2 `verify()` on libuv\'s default pool, on a `hashPassword()` hash, so the same ' +
        'parameters; not the app\'s own worker pool) while the server idles; sign-ins post the login form ' +
        'with an Origin header over keep-alive sockets (node:http) and count 303s to /portal that set a session ' +
        'cookie. The two alternate in rounds (order flipped each round) and the ratio is the median of the ' +
        'per-round ratios. CPU times come from /proc/<pid>/task/*/schedstat (server; the event loop is the thread ' +
        'whose id is the pid) and process.cpuUsage() (raw). The floor is the same route answering 403 to a ' +
        'cross-origin post, interleaved in every round. Portal latency is ' +
        `measured from each request's scheduled start (${PORTAL_RATE} requests/s on a fixed schedule), in phases ` +
        `of ${PHASE_MS / 1000} s alternating rest and a burst of sign-ins at the same concurrency as above. The ` +
        'per-sign-in counts come from a separate server with bench/support/probe.cjs preloaded that verifies on ' +
        'libuv (PORTCULLIS_PASSWORD_THREADS=0) so the probe sees the argon2 call; the time inside that call is wall ' +
        'time (waiting for a core after waking a pool thread), not CPU.',
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
