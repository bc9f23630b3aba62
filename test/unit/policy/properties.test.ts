import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aalOf,
  cidrContains,
  compilePolicies,
  decide,
  isEnrolled,
  mfaStatus,
  parseCidr,
  type AmrEntry,
  type BrowserFamily,
  type DecisionInput,
  type Method,
  type MfaRequirement,
  type MfaSettings,
  type OsFamily,
  type PolicyRecord,
} from '@/lib/policy';
import { DAY, NOW } from './builders';

// --- Arbitraries ----------------------------------------------------------------------
const GROUPS = ['g1', 'g2', 'g3', 'g4', 'g5'];
const RESOURCES = ['portal', 'demo', 'billing'];
const CIDRS = ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32', '203.0.113.0/24', '0.0.0.0/0', '::/0', '::ffff:10.0.0.0/104', '10.1.2.3'];
const IPS = ['10.1.2.3', '192.168.1.5', '2001:db8::5', '::ffff:10.1.2.3', '203.0.113.9', '198.51.100.1', 'unknown', ''];
const OSES: OsFamily[] = ['windows', 'macos', 'ios', 'android', 'linux', 'chromeos', 'other'];
const BROWSERS: BrowserFamily[] = ['chrome', 'edge', 'firefox', 'safari', 'opera', 'other'];
const METHODS: Method[] = ['totp', 'webauthn', 'duo'];

const optionalList = <T>(pool: T[]) => fc.option(fc.subarray(pool), { nil: undefined });

const policyArb: fc.Arbitrary<Omit<PolicyRecord, 'id'>> = fc.record({
  name: fc.constantFrom('Alpha', 'Beta', 'Gamma', 'alpha', 'Delta'), // duplicates on purpose: ties need the id
  description: fc.constant(null),
  enabled: fc.boolean(),
  scope: fc.constantFrom('all' as const, 'groups' as const),
  includeGroupIds: fc.subarray(GROUPS),
  excludeGroupIds: fc.subarray(GROUPS, { maxLength: 2 }),
  conditions: fc.record(
    { ipIn: optionalList(CIDRS), ipNotIn: optionalList(CIDRS), osIn: optionalList(OSES), browserIn: optionalList(BROWSERS) },
    { requiredKeys: [] },
  ),
  resources: fc.subarray(RESOURCES, { minLength: 1 }),
  action: fc.constantFrom('allow' as const, 'require_mfa' as const, 'deny' as const),
  priority: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
});

const policiesArb = fc.array(policyArb, { maxLength: 6 }).map((ps) => ps.map((p, i): PolicyRecord => ({ ...p, id: `p${i}` })));

const offsetArb = fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -10 * DAY, max: 10 * DAY }));
const requirementArb: fc.Arbitrary<MfaRequirement | null> = fc.option(
  fc.record({
    required: fc.boolean(),
    enrollmentDays: fc.constant(7),
    periodStartsAt: fc.option(offsetArb.map((o) => NOW - 7 * DAY + o), { nil: null }),
    periodEndsAt: fc.option(offsetArb.map((o) => NOW + o), { nil: null }),
  }),
  { nil: null },
);
const settingsArb: fc.Arbitrary<MfaSettings> = fc.record(
  { totp: fc.boolean(), webauthn: fc.boolean(), duo: fc.boolean(), challengeEnrolled: fc.boolean() },
  { requiredKeys: ['totp', 'webauthn', 'duo'] }, // absent = the org default (on)
);

interface World {
  records: PolicyRecord[];
  input: Omit<DecisionInput, 'policies'>;
}

const passwordOnly: AmrEntry[] = [{ method: 'pwd', at: NOW }];
const withTotp: AmrEntry[] = [...passwordOnly, { method: 'totp', at: NOW }];

const worldArb: fc.Arbitrary<World> = fc.record({
  records: policiesArb,
  input: fc.record({
    now: offsetArb.map((o) => NOW + o),
    resource: fc.constantFrom(...RESOURCES),
    session: fc.record({ amr: fc.constantFrom(passwordOnly, withTotp), mfaSkipped: fc.boolean() }),
    user: fc.record({
      id: fc.constant('u1'),
      state: fc.constantFrom('active' as const, 'active' as const, 'staged' as const, 'suspended' as const),
      groupIds: fc.subarray(GROUPS).chain((gs) => fc.constantFrom<ReadonlySet<string> | string[]>(gs, new Set(gs))),
    }),
    requirement: requirementArb,
    enrolledMethods: fc.subarray(METHODS),
    settings: settingsArb,
    request: fc.record({ ip: fc.constantFrom(...IPS), os: fc.constantFrom(...OSES), browser: fc.constantFrom(...BROWSERS) }),
  }),
});

const run = (w: World, records = w.records) => decide({ ...w.input, policies: compilePolicies(records) });
const groupsOf = (w: World) => [...(w.input.user!.groupIds as Iterable<string>)];

// --- Properties -----------------------------------------------------------------------
describe('decide() properties', () => {
  it('never throws and always cites a decision rule R-D1..R-D8 or R-D11', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        expect(run(w).rule).toMatch(/^R-D([1-8]|11)$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('R-C2: a policy excluding one of the user\'s groups never changes the decision (exclusion always wins)', () => {
    const arb = worldArb
      .filter((w) => groupsOf(w).length > 0)
      .chain((w) =>
        fc.tuple(fc.constant(w), policyArb, fc.constantFrom(...groupsOf(w)), fc.nat(w.records.length)).map(([world, p, g, at]) => {
          const excluding: PolicyRecord = { ...p, id: 'p-excluding', excludeGroupIds: [...p.excludeGroupIds, g] };
          const records = [...world.records];
          records.splice(at, 0, excluding);
          return { world, records };
        }),
      );
    fc.assert(
      fc.property(arb, ({ world, records }) => {
        expect(run(world, records)).toStrictEqual(run(world));
      }),
      { numRuns: 1000 },
    );
  });

  it('R-C1: adding an OFF policy never changes a decision', () => {
    const arb = worldArb.chain((w) =>
      fc.tuple(fc.constant(w), policyArb, fc.nat(w.records.length)).map(([world, p, at]) => {
        const records = [...world.records];
        records.splice(at, 0, { ...p, id: 'p-off', enabled: false });
        return { world, records };
      }),
    );
    fc.assert(
      fc.property(arb, ({ world, records }) => {
        expect(run(world, records)).toStrictEqual(run(world));
      }),
      { numRuns: 1000 },
    );
  });

  it('R-D3: a session at aal2 is never sent to enrollment, a challenge or the locked page', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const d = decide({ ...w.input, session: { amr: withTotp, mfaSkipped: false }, policies: compilePolicies(w.records) });
        expect(['allow', 'deny', 'login']).toContain(d.kind);
      }),
      { numRuns: 1000 },
    );
  });

  it('R-D11: an active user with a factor of an enabled method is challenged or denied until a second factor passes', () => {
    const arb = worldArb.filter(
      (w) =>
        w.input.user!.state === 'active' &&
        aalOf(w.input.session!.amr) === 1 &&
        w.input.settings.challengeEnrolled !== false &&
        w.input.enrolledMethods.some((m) => w.input.settings[m]),
    );
    fc.assert(
      fc.property(arb, (w) => {
        expect(['challenge', 'deny']).toContain(run(w).kind);
      }),
      { numRuns: 1000 },
    );
  });

  it('R-D11: turning the org setting off only turns its challenges into R-D8 allows, and changes nothing else', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const on = decide({ ...w.input, settings: { ...w.input.settings, challengeEnrolled: true }, policies: compilePolicies(w.records) });
        const off = decide({ ...w.input, settings: { ...w.input.settings, challengeEnrolled: false }, policies: compilePolicies(w.records) });
        if (on.rule === 'R-D11') {
          expect(on.kind).toBe('challenge');
          expect(off).toMatchObject({ kind: 'allow', rule: 'R-D8' });
        } else {
          expect(on).toStrictEqual(off);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('R-C6: the decision does not depend on the order of policies', () => {
    const arb = worldArb.chain((w) => fc.tuple(fc.constant(w), fc.shuffledSubarray(w.records, { minLength: w.records.length })));
    fc.assert(
      fc.property(arb, ([w, shuffled]) => {
        expect(run(w, shuffled)).toStrictEqual(run(w));
      }),
      { numRuns: 1000 },
    );
  });

  it('R-F1/R-D6: mfaStatus and decide never disagree about expiry', () => {
    const arb = fc.record({
      now: offsetArb.map((o) => NOW + o),
      periodEndsAt: fc.option(offsetArb.map((o) => NOW + o), { nil: null }),
      enrolledMethods: fc.subarray(METHODS),
      settings: settingsArb,
      mfaSkipped: fc.boolean(),
      resource: fc.constantFrom(...RESOURCES),
    });
    fc.assert(
      fc.property(arb, (a) => {
        const requirement: MfaRequirement = { required: true, enrollmentDays: 7, periodStartsAt: NOW - 7 * DAY, periodEndsAt: a.periodEndsAt };
        const user = { id: 'u1', state: 'active' as const, groupIds: [] };
        const enrolled = isEnrolled(a.enrolledMethods, a.settings);
        const status = mfaStatus(user, requirement, enrolled, a.now);
        const d = decide({
          now: a.now,
          resource: a.resource,
          session: { amr: passwordOnly, mfaSkipped: a.mfaSkipped },
          user,
          requirement,
          enrolledMethods: a.enrolledMethods,
          settings: a.settings,
          request: { ip: '10.1.2.3', os: 'linux', browser: 'firefox' },
          policies: [],
        });
        expect(status.status === 'expired').toBe(d.kind === 'locked');
        expect(status.status === 'enrolled').toBe(d.kind === 'challenge');
        if (d.kind === 'locked') expect(d.expiredAt).toBe(status.endsAt);
        if (d.kind === 'enroll') expect(d.deadline).toBe(status.endsAt);
      }),
      { numRuns: 2000 },
    );
  });
});

// --- CIDR generation ------------------------------------------------------------------
const v4Arb = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const wordsArb = fc.array(fc.oneof(fc.constant(0), fc.nat(0xffff)), { minLength: 8, maxLength: 8 });

/** Formats 8 words, compressing one run of zero words (chosen by `pick`) if there is one. */
function formatV6(words: number[], pick: number, upper: boolean, v4Tail: boolean): string {
  const hex = words.map((w) => w.toString(16));
  if (v4Tail) {
    const [a, b] = [words[6]!, words[7]!];
    hex.splice(6, 2, `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`);
  }
  const runs: [number, number][] = [];
  for (let i = 0; i < hex.length; i++) {
    if (hex[i] !== '0') continue;
    let j = i;
    while (j < hex.length && hex[j] === '0') j++;
    runs.push([i, j]);
    i = j;
  }
  let text: string;
  if (runs.length === 0 || pick % (runs.length + 1) === runs.length) text = hex.join(':');
  else {
    const [i, j] = runs[pick % (runs.length + 1)]!;
    text = `${hex.slice(0, i).join(':')}::${hex.slice(j).join(':')}`;
  }
  return upper ? text.toUpperCase() : text;
}
const v6Arb = fc.tuple(wordsArb, fc.nat(), fc.boolean(), fc.boolean()).map(([w, p, u, t]) => formatV6(w, p, u, t));
const cidrArb = fc.oneof(
  fc.tuple(v4Arb, fc.option(fc.integer({ min: 0, max: 32 }), { nil: undefined })).map(([a, p]) => (p === undefined ? a : `${a}/${p}`)),
  fc.tuple(v6Arb, fc.option(fc.integer({ min: 0, max: 128 }), { nil: undefined })).map(([a, p]) => (p === undefined ? a : `${a}/${p}`)),
);

describe('CIDR properties', () => {
  it('compilePolicies never throws on valid generated CIDRs', () => {
    fc.assert(
      fc.property(fc.array(cidrArb, { minLength: 1, maxLength: 5 }), fc.array(cidrArb, { maxLength: 5 }), (ipIn, ipNotIn) => {
        const record: PolicyRecord = {
          id: 'p1', name: 'Generated', description: null, enabled: true, scope: 'all', includeGroupIds: [], excludeGroupIds: [],
          conditions: { ipIn, ipNotIn }, resources: ['portal'], action: 'deny',
        };
        expect(() => compilePolicies([record])).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });

  it('a range contains the address it was written from', () => {
    fc.assert(
      fc.property(cidrArb, (text) => {
        const address = text.split('/')[0]!;
        expect(cidrContains(parseCidr(text), address)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('an IPv4 range matches the IPv4-mapped form of each address exactly as the plain form', () => {
    fc.assert(
      fc.property(v4Arb, fc.integer({ min: 0, max: 32 }), v4Arb, (net, prefix, ip) => {
        const range = parseCidr(`${net}/${prefix}`);
        expect(cidrContains(range, `::ffff:${ip}`)).toBe(cidrContains(range, ip));
      }),
      { numRuns: 1000 },
    );
  });
});
