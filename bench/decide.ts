/**
 * decide() throughput: 100 compiled policies (mixed actions, conditions and group scopes,
 * most not matching) and a user in 20 groups, one core.
 *
 *   npx tsx bench/decide.ts
 *
 * Prints one JSON line and rewrites the "## decide" section of bench/RESULTS.md. The
 * absolute rate is noisy on shared machines; the section also records the ratio to
 * decide() with no policies, measured in the same run.
 */
import { writeResultsSection } from './support/results';
import { compilePolicies, decide, type DecisionInput, type PolicyAction, type PolicyRecord } from '../lib/policy';

const GOAL = 200_000;
const MEASURE_MS = 2_000;
const WARMUP_ITERATIONS = 300_000;
const BATCH = 10_000;

const NOW = Date.UTC(2025, 2, 14, 9, 30);
const DAY = 86_400_000;
const RESOURCES = ['portal', 'demo', 'billing', 'hr', 'wiki', 'crm', 'ci', 'grafana'];
const ACTIONS: PolicyAction[] = ['allow', 'require_mfa', 'deny'];
const OS = ['windows', 'macos', 'ios', 'android', 'linux', 'chromeos'] as const;
const BROWSERS = ['chrome', 'edge', 'firefox', 'safari', 'opera'] as const;

function buildPolicies(): PolicyRecord[] {
  const records: PolicyRecord[] = [];
  for (let i = 0; i < 100; i++) {
    const scoped = i % 3 !== 0;
    const conditions: PolicyRecord['conditions'] = {};
    if (i % 4 === 1) conditions.ipIn = [`10.${i}.0.0/16`, `2001:db8:${i.toString(16)}::/48`];
    if (i % 5 === 2) conditions.ipNotIn = ['192.168.0.0/16', '2001:db8::/32', '172.16.0.0/12'];
    if (i % 6 === 3) conditions.osIn = [OS[i % OS.length]!, OS[(i + 1) % OS.length]!];
    if (i % 7 === 4) conditions.browserIn = [BROWSERS[i % BROWSERS.length]!];
    records.push({
      id: `policy-${i}`,
      name: `Policy ${String(i).padStart(3, '0')}`,
      description: null,
      enabled: i % 10 !== 9,
      scope: scoped ? 'groups' : 'all',
      // Groups g100+ are ones the user is not in, so most scoped policies miss.
      includeGroupIds: scoped ? [`g${100 + i}`, `g${200 + i}`, ...(i % 8 === 0 ? [`g${i % 20}`] : [])] : [],
      excludeGroupIds: i % 9 === 0 ? [`g${300 + i}`] : [],
      conditions,
      resources: [RESOURCES[i % RESOURCES.length]!, ...(i % 11 === 0 ? ['portal'] : [])],
      action: ACTIONS[i % ACTIONS.length]!,
      priority: i % 4,
    });
  }
  return records;
}

function buildInputs(policies: DecisionInput['policies']): DecisionInput[] {
  const groupIds = new Set(Array.from({ length: 20 }, (_, i) => `g${i}`));
  const ips = ['192.168.1.20', '10.4.1.1', '2001:db8:9::1', '::ffff:192.168.1.20', '203.0.113.9'];
  const inputs: DecisionInput[] = [];
  for (let i = 0; i < 64; i++) {
    inputs.push({
      now: NOW + i,
      resource: RESOURCES[i % RESOURCES.length]!,
      session: { amr: i % 3 === 0 ? [{ method: 'pwd', at: NOW }, { method: 'totp', at: NOW }] : [{ method: 'pwd', at: NOW }], mfaSkipped: i % 5 === 0 },
      user: { id: `u${i}`, state: 'active', groupIds },
      requirement: { required: i % 2 === 0, enrollmentDays: 7, periodStartsAt: NOW - DAY, periodEndsAt: NOW + 6 * DAY },
      enrolledMethods: i % 4 === 0 ? [] : ['totp'],
      settings: { totp: true, webauthn: i % 2 === 0, duo: false },
      request: { ip: ips[i % ips.length]!, os: OS[i % OS.length]!, browser: BROWSERS[i % BROWSERS.length]! },
      policies,
    });
  }
  return inputs;
}

/** Decisions per second over ~MEASURE_MS; the checksum keeps the JIT from discarding work. */
function measure(inputs: DecisionInput[]): { rate: number; checksum: number } {
  let checksum = 0;
  const n = inputs.length;
  for (let i = 0; i < WARMUP_ITERATIONS; i++) checksum += decide(inputs[i % n]!).kind.length;
  let done = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < MEASURE_MS) {
    for (let i = 0; i < BATCH; i++) checksum += decide(inputs[(done + i) % n]!).kind.length;
    done += BATCH;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return { rate: Math.round(done / (elapsedMs / 1000)), checksum };
}

function main(): void {
  const policies = compilePolicies(buildPolicies());
  const inputs = buildInputs(policies);
  const baseline = measure(buildInputs([]));
  const full = measure(inputs);
  const pass = full.rate >= GOAL;
  const kinds = new Map<string, number>();
  for (const input of inputs) {
    const kind = decide(input).kind;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }

  console.log(JSON.stringify({ bench: 'decide', decisionsPerSecond: full.rate, goal: GOAL, pass }));

  const mix = [...kinds].map(([k, v]) => `${k} ${v}`).join(', ');
  writeResultsSection(
    'decide',
    [
      '## decide',
      '',
      `\`npx tsx bench/decide.ts\` — ${new Date().toISOString()}, Node ${process.version}, one core.`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| decisions/s, 100 policies, user in 20 groups | ${full.rate.toLocaleString('en-US')} |`,
      `| goal | ${GOAL.toLocaleString('en-US')} (${pass ? 'PASS' : 'FAIL'}) |`,
      `| decisions/s, no policies (same run) | ${baseline.rate.toLocaleString('en-US')} |`,
      `| cost of 100 policies (time ratio vs none) | ${(baseline.rate / full.rate).toFixed(2)}× |`,
      `| decision mix over the ${inputs.length} rotating inputs | ${mix} |`,
      '',
    ].join('\n'),
  );
  if (full.checksum === -1 || baseline.checksum === -1) console.error('unreachable');
}

main();
