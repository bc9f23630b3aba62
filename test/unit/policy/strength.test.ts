import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicies, compilePolicy, decide, type Decision, type DecisionInput, type PolicyRecord } from '@/lib/policy';
import { NOW, as, persona, policy, settingsOf } from './builders';

/**
 * Issue 18 parts 1 and 2: authentication strength (phishing-resistant = WebAuthn only) and
 * re-verification after N minutes. `passed(['totp', 30])` means the session passed TOTP
 * 30 minutes ago.
 */

// --- Personas -------------------------------------------------------------------------
const Tina = persona('Tina', { enrolled: ['totp'] }); // an authenticator app only
const Kim = persona('Kim', { enrolled: ['totp', 'webauthn'] }); // an app and a security key
const Walt = persona('Walt', { enrolled: ['webauthn'] }); // a security key only
const Dora = persona('Dora', { enrolled: ['duo'] });
const Nina = persona('Nina'); // no factor yet

// --- Policies -------------------------------------------------------------------------
const billingStrong = () => policy('Billing needs a key').on('billing').phishingResistant();
const billingHourly = () => policy('Billing hourly').on('billing').reverifyEvery(60);
const billingDaily = () => policy('Billing daily').on('billing').reverifyEvery(24 * 60).priority(-5);
const billingPlain = () => policy('Billing MFA').on('billing');
const billingDeny = () => policy('Billing closed').on('billing').deny();
const ref = (b: ReturnType<typeof policy>) => {
  const r = b.build();
  return { id: r.id, name: r.name };
};

const both = settingsOf.totpAndWebauthn;

interface Row {
  name: string;
  input: () => DecisionInput;
  expected: Decision;
}

const rows: Row[] = [
  // Part 1: strength.
  {
    name: 'Kim passed TOTP; billing asks for phishing-resistant: challenged again, offered only her key',
    input: () => as(Kim).settings(both).resource('billing').policies(billingStrong()).passed(['totp', 1]).build(),
    expected: { kind: 'challenge', methods: ['webauthn'], rule: 'R-D13', policy: ref(billingStrong()), strength: 'phishing_resistant' },
  },
  {
    name: 'Kim with a password only: offered only her key, not her app',
    input: () => as(Kim).settings(both).resource('billing').policies(billingStrong()).build(),
    expected: { kind: 'challenge', methods: ['webauthn'], rule: 'R-D13', policy: ref(billingStrong()), strength: 'phishing_resistant' },
  },
  {
    name: 'Kim passed her key: allowed, and the decision names the strength',
    input: () => as(Kim).settings(both).resource('billing').policies(billingStrong()).passed(['totp', 10], ['webauthn', 9]).build(),
    expected: { kind: 'allow', rule: 'R-D3', policy: ref(billingStrong()), strength: 'phishing_resistant' },
  },
  {
    name: 'Tina (app only) who passed TOTP is sent to set up a key, forced (no skip)',
    input: () => as(Tina).settings(both).resource('billing').policies(billingStrong()).passed(['totp', 1]).build(),
    expected: {
      kind: 'enroll',
      forced: true,
      methods: ['webauthn'],
      defaultMethod: 'webauthn',
      deadline: null,
      rule: 'R-D13',
      policy: ref(billingStrong()),
      strength: 'phishing_resistant',
    },
  },
  {
    name: 'Nina (no factor) is sent to set up a key, not an app',
    input: () => as(Nina).settings(both).resource('billing').policies(billingStrong()).build(),
    expected: {
      kind: 'enroll',
      forced: true,
      methods: ['webauthn'],
      defaultMethod: 'webauthn',
      deadline: null,
      rule: 'R-D13',
      policy: ref(billingStrong()),
      strength: 'phishing_resistant',
    },
  },
  {
    name: 'Dora passed Duo: Duo is not phishing-resistant, she must set up a key',
    input: () => as(Dora).settings(settingsOf.all).resource('billing').policies(billingStrong()).passed(['duo', 1]).build(),
    expected: {
      kind: 'enroll',
      forced: true,
      methods: ['webauthn'],
      defaultMethod: 'webauthn',
      deadline: null,
      rule: 'R-D13',
      policy: ref(billingStrong()),
      strength: 'phishing_resistant',
    },
  },
  {
    name: 'a damaged row (WebAuthn off org-wide under a phishing-resistant policy) denies rather than accept less',
    input: () => as(Kim).settings(settingsOf.totpOnly).resource('billing').policies(billingStrong()).passed(['totp', 1]).build(),
    expected: { kind: 'deny', rule: 'R-D13', policy: ref(billingStrong()) },
  },
  {
    name: 'a plain require-MFA policy still takes any factor, and says so',
    input: () => as(Tina).settings(both).resource('billing').policies(billingPlain()).passed(['totp', 1]).build(),
    expected: { kind: 'allow', rule: 'R-D3', policy: ref(billingPlain()) },
  },
  {
    name: 'the phishing-resistant policy applies only to its resource: the portal still takes TOTP',
    input: () => as(Tina).settings(both).resource('portal').policies(billingStrong()).passed(['totp', 1]).build(),
    expected: { kind: 'allow', rule: 'R-D8' },
  },
  // Part 2: re-verification.
  {
    name: 'Tina passed TOTP 59 minutes ago; billing re-verifies every hour: allowed',
    input: () => as(Tina).resource('billing').policies(billingHourly()).passed(['totp', 59]).build(),
    expected: { kind: 'allow', rule: 'R-D3', policy: ref(billingHourly()), strength: 'any', reverifyMinutes: 60 },
  },
  {
    name: 'exactly N minutes ago still counts',
    input: () => as(Tina).resource('billing').policies(billingHourly()).passed(['totp', 60]).build(),
    expected: { kind: 'allow', rule: 'R-D3', policy: ref(billingHourly()), strength: 'any', reverifyMinutes: 60 },
  },
  {
    name: 'Tina passed TOTP 61 minutes ago: challenged again with any method she has (R-D14)',
    input: () => as(Tina).resource('billing').policies(billingHourly()).passed(['totp', 61]).build(),
    expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D14', policy: ref(billingHourly()), strength: 'any', reverifyMinutes: 60 },
  },
  {
    name: 'a recent recovery code counts as a recent second factor for "any"',
    input: () => as(Tina).resource('billing').policies(billingHourly()).passed(['totp', 600], ['recovery', 2]).build(),
    expected: { kind: 'allow', rule: 'R-D3', policy: ref(billingHourly()), strength: 'any', reverifyMinutes: 60 },
  },
  {
    name: 'two matching policies ask for 60 and 1440 minutes: the smallest wins, whichever policy won the match',
    input: () => as(Tina).resource('billing').policies(billingHourly(), billingDaily()).passed(['totp', 90]).build(),
    expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D14', policy: ref(billingDaily()), strength: 'any', reverifyMinutes: 60 },
  },
  {
    name: 'a looser plain policy that wins the match does not hide a phishing-resistant one',
    input: () => as(Kim).settings(both).resource('billing').policies(billingPlain().priority(-9), billingStrong()).passed(['totp', 1]).build(),
    expected: { kind: 'challenge', methods: ['webauthn'], rule: 'R-D13', policy: ref(billingPlain()), strength: 'phishing_resistant' },
  },
  {
    name: 'phishing-resistant and hourly: a key passed 2 hours ago is asked again, key only',
    input: () =>
      as(Kim).settings(both).resource('billing').policies(billingStrong(), billingHourly()).passed(['webauthn', 120], ['totp', 1]).build(),
    expected: {
      kind: 'challenge',
      methods: ['webauthn'],
      rule: 'R-D13',
      policy: ref(billingHourly()),
      strength: 'phishing_resistant',
      reverifyMinutes: 60,
    },
  },
  {
    name: 'a deny stays a deny, whatever the session passed',
    input: () => as(Walt).settings(both).resource('billing').policies(billingStrong(), billingDeny()).passed(['webauthn', 0]).build(),
    expected: { kind: 'deny', rule: 'R-D2', policy: ref(billingDeny()) },
  },
  {
    name: 'an OFF re-verification policy asks nothing',
    input: () => as(Tina).resource('billing').policies(billingPlain(), billingHourly().off()).passed(['totp', 600]).build(),
    expected: { kind: 'allow', rule: 'R-D3', policy: ref(billingPlain()) },
  },
];

describe('decide(): authentication strength and re-verification (issue 18)', () => {
  it.each(rows)('$name', ({ input, expected }) => {
    expect(decide(input())).toEqual(expected);
  });
});

describe('compilePolicy(): strength and N, failing closed on a damaged row', () => {
  const base = policy('X').build();
  it('carries strength and N (in ms) for require-MFA only', () => {
    const p = compilePolicy({ ...base, strength: 'phishing_resistant', reverifyMinutes: 15 });
    expect([p.phishingResistant, p.reverifyMs]).toEqual([true, 15 * 60_000]);
    const allow = compilePolicy({ ...base, action: 'allow', strength: 'phishing_resistant', reverifyMinutes: 15 });
    expect([allow.phishingResistant, allow.reverifyMs]).toEqual([false, null]);
  });
  it('reads an unknown strength as phishing-resistant and clamps N into 5 min … 30 days', () => {
    const odd = { ...base, strength: 'strongest' } as unknown as PolicyRecord;
    expect(compilePolicy(odd).phishingResistant).toBe(true);
    expect(compilePolicy({ ...base, reverifyMinutes: 1 }).reverifyMs).toBe(5 * 60_000);
    expect(compilePolicy({ ...base, reverifyMinutes: 10 ** 9 }).reverifyMs).toBe(43_200 * 60_000);
    expect(compilePolicy({ ...base, reverifyMinutes: Number.NaN }).reverifyMs).toBe(5 * 60_000);
  });
});

// --- Properties -----------------------------------------------------------------------
const SECOND_FACTORS = ['totp', 'webauthn', 'duo', 'recovery'] as const;
const amrArb = fc
  .uniqueArray(fc.record({ method: fc.constantFrom(...SECOND_FACTORS), ago: fc.integer({ min: 0, max: 3 * 24 * 60 }) }), {
    selector: (e) => e.method,
    maxLength: 4,
  })
  .map((es) => [{ method: 'pwd', at: NOW - 4 * 24 * 60 * 60_000 }, ...es.map((e) => ({ method: e.method, at: NOW - e.ago * 60_000 }))]);
const demandArb = fc.record({
  strong: fc.boolean(),
  minutes: fc.option(fc.integer({ min: 5, max: 43_200 }), { nil: null }),
  priority: fc.integer({ min: -3, max: 3 }),
  deny: fc.boolean(),
});
const worldArb = fc.record({
  amr: amrArb,
  enrolled: fc.subarray(['totp', 'webauthn', 'duo'] as const),
  settings: fc.constantFrom(settingsOf.totpAndWebauthn, settingsOf.all, settingsOf.webauthnAndDuo),
  demands: fc.array(demandArb, { minLength: 1, maxLength: 4 }),
});
type World = typeof worldArb extends fc.Arbitrary<infer T> ? T : never;

function recordsOf(w: World, denyToo = true): PolicyRecord[] {
  return w.demands.map((d, i) => ({
    ...policy(`P${i}`).on('billing').priority(d.priority).build(),
    action: denyToo && d.deny ? 'deny' : 'require_mfa',
    strength: d.strong ? 'phishing_resistant' : 'any',
    reverifyMinutes: d.minutes,
  }));
}

function inputOf(w: World, records: PolicyRecord[]): DecisionInput {
  return {
    now: NOW,
    resource: 'billing',
    session: { amr: w.amr, mfaSkipped: false },
    user: { id: 'u1', state: 'active', groupIds: new Set() },
    requirement: null,
    enrolledMethods: [...w.enrolled],
    settings: w.settings,
    request: { ip: '203.0.113.7', os: 'windows', browser: 'chrome' },
    policies: compilePolicies(records),
  };
}

describe('strength and re-verification properties', () => {
  it('TOTP, Duo and recovery codes never satisfy a phishing-resistant policy', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const records = recordsOf(w, false);
        records[0]!.strength = 'phishing_resistant';
        const withoutKey = w.amr.filter((e) => e.method !== 'webauthn');
        const d = decide({ ...inputOf(w, records), session: { amr: withoutKey, mfaSkipped: false } });
        expect(d.kind).not.toBe('allow');
      }),
    );
  });

  it('a webauthn passed just now satisfies every strength and every N', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const amr = [...w.amr.filter((e) => e.method !== 'webauthn'), { method: 'webauthn', at: NOW }];
        const d = decide({ ...inputOf(w, recordsOf(w, false)), session: { amr, mfaSkipped: false } });
        expect(d.kind).toBe('allow');
      }),
    );
  });

  it('the smallest N wins: allowed iff some accepted second factor is no older than the smallest N asked', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const records = recordsOf(w, false).map((r) => ({ ...r, strength: 'any' as const }));
        const asked = w.demands.map((d) => d.minutes).filter((m): m is number => m !== null);
        const smallest = asked.length > 0 ? Math.min(...asked) : Number.POSITIVE_INFINITY;
        const fresh = w.amr.some((e) => e.method !== 'pwd' && NOW - e.at <= smallest * 60_000);
        const d = decide(inputOf(w, records));
        expect(d.kind === 'allow').toBe(fresh);
        if (asked.length > 0 && d.kind !== 'login' && d.kind !== 'deny' && d.kind !== 'locked') expect(d.reverifyMinutes).toBe(smallest);
      }),
    );
  });

  it('a deny is never softened: with a matching deny the answer is deny whatever the session passed', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        fc.pre(w.demands.some((d) => d.deny));
        expect(decide(inputOf(w, recordsOf(w))).kind).toBe('deny');
      }),
    );
  });

  it('a phishing-resistant demand only ever offers WebAuthn, and names its strength', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const records = recordsOf(w, false);
        records[0]!.strength = 'phishing_resistant';
        const d = decide(inputOf(w, records));
        if (d.kind === 'challenge' || d.kind === 'enroll') {
          expect(d.methods).toEqual(['webauthn']);
          expect(d.strength).toBe('phishing_resistant');
          if (d.kind === 'enroll') expect(d.forced).toBe(true);
        }
      }),
    );
  });

  it('adding a demand never turns a refusal into an allow (asking more never asks less)', () => {
    fc.assert(
      fc.property(worldArb, demandArb, (w, extra) => {
        const before = decide(inputOf(w, recordsOf(w)));
        const after = decide(inputOf({ ...w, demands: [...w.demands, extra] }, recordsOf({ ...w, demands: [...w.demands, extra] })));
        if (before.kind !== 'allow') expect(after.kind).not.toBe('allow');
      }),
    );
  });
});
