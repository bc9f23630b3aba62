import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicies, compilePolicy, decide, type Decision, type DecisionInput, type PolicyRecord } from '@/lib/policy';
import { DAY, NOW, as, persona, policy, requiredWindow, settingsOf } from './builders';

/**
 * Issue 18 part 3: remembered devices (R-D15). `madeDaysAgo(3)` is the device the request
 * presented (the gate passes it only when it is this user's, unexpired and not forgotten).
 */

// --- Personas -------------------------------------------------------------------------
const Tina = persona('Tina', { enrolled: ['totp'] }); // an authenticator app
const Kim = persona('Kim', { enrolled: ['totp', 'webauthn'] }); // an app and a key
const Ivy = persona('Ivy', { enrolled: ['totp'], requirement: requiredWindow(-DAY, 6 * DAY) }); // required individually
const Nina = persona('Nina'); // no factor yet

// --- Policies -------------------------------------------------------------------------
const billingRemember30 = () => policy('Billing remembers 30 days').on('billing').rememberFor(30).priority(1);
const billingNoRemember = () => policy('Billing every time').on('billing');
const billingStrong = () => policy('Billing needs a key').on('billing').phishingResistant().priority(5);
const billingHourly = () => policy('Billing hourly').on('billing').reverifyEvery(60).priority(5);
const billingDeny = () => policy('Billing closed').on('billing').deny();
const ref = (b: ReturnType<typeof policy>) => {
  const r = b.build();
  return { id: r.id, name: r.name };
};

const madeDaysAgo = (input: DecisionInput, days: number): DecisionInput => ({ ...input, rememberedDevice: { createdAt: NOW - days * DAY } });

interface Row {
  name: string;
  input: () => DecisionInput;
  expected: Decision;
}

const rows: Row[] = [
  {
    name: 'Tina without a device, under a policy that remembers: challenged, and told she may tick the box for 30 days',
    input: () => as(Tina).resource('billing').policies(billingRemember30()).build(),
    expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D3', policy: ref(billingRemember30()), rememberDays: 30 },
  },
  {
    name: 'Tina with a device made 3 days ago: allowed by R-D15, naming the policy',
    input: () => madeDaysAgo(as(Tina).resource('billing').policies(billingRemember30()).build(), 3),
    expected: { kind: 'allow', rule: 'R-D15', policy: ref(billingRemember30()) },
  },
  {
    name: 'Tina with a device made 30 days ago: it no longer counts, challenged again',
    input: () => madeDaysAgo(as(Tina).resource('billing').policies(billingRemember30()).build(), 30),
    expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D3', policy: ref(billingRemember30()), rememberDays: 30 },
  },
  {
    name: 'Tina with a device, on a policy that does not remember: challenged, no box offered',
    input: () => madeDaysAgo(as(Tina).resource('billing').policies(billingNoRemember()).build(), 1),
    expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D3', policy: ref(billingNoRemember()) },
  },
  {
    name: 'Kim with a device, where a matching policy asks for phishing-resistant: only her key will do',
    input: () => madeDaysAgo(as(Kim).settings(settingsOf.totpAndWebauthn).resource('billing').policies(billingRemember30(), billingStrong()).build(), 1),
    expected: { kind: 'challenge', methods: ['webauthn'], rule: 'R-D13', policy: ref(billingRemember30()), strength: 'phishing_resistant' },
  },
  {
    name: 'Tina with a device, where a matching policy asks for re-verification within an hour: challenged, no box',
    input: () => madeDaysAgo(as(Tina).resource('billing').policies(billingRemember30(), billingHourly()).build(), 1),
    expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D3', policy: ref(billingRemember30()), strength: 'any', reverifyMinutes: 60 },
  },
  {
    name: 'Tina with a device on a resource that is denied: still denied',
    input: () => madeDaysAgo(as(Tina).resource('billing').policies(billingRemember30(), billingDeny()).build(), 1),
    expected: { kind: 'deny', rule: 'R-D2', policy: ref(billingDeny()) },
  },
  {
    name: 'Tina with a device where no policy applies: R-D11 (her own factor) still asks',
    input: () => madeDaysAgo(as(Tina).resource('portal').policies(billingRemember30()).build(), 1),
    expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D11' },
  },
  {
    name: 'Ivy, required individually, with a device: an individual requirement alone never remembers',
    input: () => madeDaysAgo(as(Ivy).resource('portal').build(), 1),
    expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D3' },
  },
  {
    name: 'Nina (no factor) with a device: a device never stands in for setting one up',
    input: () => madeDaysAgo(as(Nina).resource('billing').policies(billingRemember30()).build(), 1),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: ref(billingRemember30()) },
  },
  {
    name: 'Tina who passed TOTP: allowed by R-D3 as before, the device plays no part',
    input: () => madeDaysAgo(as(Tina).resource('billing').policies(billingRemember30()).passed(['totp', 5]).build(), 1),
    expected: { kind: 'allow', rule: 'R-D3', policy: ref(billingRemember30()) },
  },
  {
    name: 'a stricter-priority policy that does not remember wins: Tina is challenged despite her device',
    input: () => madeDaysAgo(as(Tina).resource('billing').policies(billingRemember30(), billingNoRemember().priority(-1)).build(), 1),
    expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D3', policy: ref(billingNoRemember()) },
  },
];

describe('decide(): remembered devices (issue 18 part 3, R-D15)', () => {
  it.each(rows)('$name', ({ input, expected }) => {
    expect(decide(input())).toEqual(expected);
  });
});

describe('compilePolicy(): N days, failing closed on a damaged row', () => {
  const base = policy('X').build();
  it('carries N for require-MFA only', () => {
    expect(compilePolicy({ ...base, rememberDays: 14 }).rememberDays).toBe(14);
    expect(compilePolicy({ ...base, rememberDays: null }).rememberDays).toBeNull();
    expect(compilePolicy({ ...base, action: 'allow', rememberDays: 14 }).rememberDays).toBeNull();
  });
  it('clamps N into 1 … 90 and reads a non-number as the shortest', () => {
    expect(compilePolicy({ ...base, rememberDays: 0 }).rememberDays).toBe(1);
    expect(compilePolicy({ ...base, rememberDays: 365 }).rememberDays).toBe(90);
    expect(compilePolicy({ ...base, rememberDays: 'lots' } as unknown as PolicyRecord).rememberDays).toBe(1);
  });
});

// --- Properties -----------------------------------------------------------------------
const policyArb = fc.record({
  action: fc.constantFrom('require_mfa', 'require_mfa', 'deny', 'allow') as fc.Arbitrary<'require_mfa' | 'deny' | 'allow'>,
  rememberDays: fc.option(fc.integer({ min: 1, max: 90 }), { nil: null }),
  strong: fc.boolean(),
  minutes: fc.option(fc.integer({ min: 5, max: 43_200 }), { nil: null }),
  priority: fc.integer({ min: -3, max: 3 }),
});
const worldArb = fc.record({
  enrolled: fc.subarray(['totp', 'webauthn', 'duo'] as const),
  settings: fc.constantFrom(settingsOf.totpOnly, settingsOf.totpAndWebauthn, settingsOf.all),
  policies: fc.array(policyArb, { minLength: 0, maxLength: 4 }),
  /** The device's age in hours (up to 100 days), or no device. */
  deviceAgeHours: fc.option(fc.integer({ min: 0, max: 2400 }), { nil: null }),
  /** The session passed TOTP this many minutes ago, or only a password. */
  passedMinutesAgo: fc.option(fc.integer({ min: 0, max: 3 * 24 * 60 }), { nil: null }),
  individual: fc.boolean(),
});
type World = typeof worldArb extends fc.Arbitrary<infer T> ? T : never;

function recordsOf(w: World): PolicyRecord[] {
  return w.policies.map((p, i) => ({
    ...policy(`P${i}`).on('billing').priority(p.priority).build(),
    action: p.action,
    rememberDays: p.rememberDays,
    strength: p.strong ? 'phishing_resistant' : 'any',
    reverifyMinutes: p.minutes,
  }));
}

function inputOf(w: World, device: boolean): DecisionInput {
  const amr = [{ method: 'pwd', at: NOW - 4 * DAY }];
  if (w.passedMinutesAgo !== null) amr.push({ method: 'totp', at: NOW - w.passedMinutesAgo * 60_000 });
  return {
    now: NOW,
    resource: 'billing',
    session: { amr, mfaSkipped: false },
    user: { id: 'u1', state: 'active', groupIds: new Set() },
    requirement: w.individual ? requiredWindow(-DAY, 6 * DAY) : null,
    enrolledMethods: [...w.enrolled],
    settings: w.settings,
    request: { ip: '203.0.113.7', os: 'windows', browser: 'chrome' },
    policies: compilePolicies(recordsOf(w)),
    rememberedDevice: device && w.deviceAgeHours !== null ? { createdAt: NOW - w.deviceAgeHours * 3_600_000 } : null,
  };
}

/** The policy that won (strictestMatch): every generated policy matches the request. */
function winner(w: World) {
  const rank = { allow: 1, require_mfa: 2, deny: 3 } as const;
  const compiled = compilePolicies(recordsOf(w));
  return compiled.reduce<(typeof compiled)[number] | null>((best, p) => {
    if (best === null) return p;
    if (rank[p.action] !== rank[best.action]) return rank[p.action] > rank[best.action] ? p : best;
    if (p.priority !== best.priority) return p.priority < best.priority ? p : best;
    return p.name < best.name ? p : best;
  }, null);
}

/** The N every generated require-MFA policy allows (all match the request), or null when one does not remember. */
function smallestRememberDays(w: World): number | null {
  const asked = compilePolicies(recordsOf(w)).filter((p) => p.action === 'require_mfa');
  if (asked.some((p) => p.rememberDays === null)) return null;
  return Math.min(...asked.map((p) => p.rememberDays!));
}

describe('remembered device properties', () => {
  it('a device changes the answer only from a challenge to an R-D15 allow, and nothing else', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const without = decide(inputOf(w, false));
        const withDevice = decide(inputOf(w, true));
        if (withDevice.rule === 'R-D15') {
          expect(without.kind).toBe('challenge');
          expect(withDevice.kind).toBe('allow');
        } else {
          expect(withDevice).toEqual(without);
        }
      }),
    );
  });

  it('a remembered device never satisfies a phishing-resistant or re-verification demand', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        fc.pre(w.policies.some((p) => p.action === 'require_mfa' && (p.strong || p.minutes !== null)));
        expect(decide(inputOf(w, true)).rule).not.toBe('R-D15');
      }),
    );
  });

  it('a deny is never softened by a remembered device', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        fc.pre(w.policies.some((p) => p.action === 'deny'));
        expect(decide(inputOf(w, true)).kind).toBe('deny');
      }),
    );
  });

  it('a device N days old or older does nothing', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const won = winner(w);
        const days = smallestRememberDays(w);
        fc.pre(won !== null && days !== null && w.deviceAgeHours !== null && w.deviceAgeHours >= days * 24);
        expect(decide(inputOf(w, true))).toEqual(decide(inputOf(w, false)));
      }),
    );
  });

  it('a device counts only where every matching require-MFA policy allows remembering, and then within the smallest N', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const won = winner(w);
        const d = decide(inputOf(w, true));
        if (d.rule !== 'R-D15') return;
        expect(won?.action).toBe('require_mfa');
        const days = smallestRememberDays(w);
        expect(days).not.toBeNull();
        expect(w.deviceAgeHours! * 3_600_000).toBeLessThan(days! * DAY);
        expect(d).toEqual({ kind: 'allow', rule: 'R-D15', policy: won!.ref });
      }),
    );
  });

  it('a challenge offers the box exactly when R-D15 could have allowed it, with the smallest N', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const d = decide(inputOf(w, false));
        if (d.kind !== 'challenge') return;
        const won = winner(w);
        const demanding = w.policies.some((p) => p.action === 'require_mfa' && (p.strong || p.minutes !== null));
        const expected = won?.action === 'require_mfa' && won.rememberDays !== null && !demanding ? (smallestRememberDays(w) ?? undefined) : undefined;
        expect(d.rememberDays).toBe(expected);
      }),
    );
  });

  it('Rhea: a second require-MFA policy that does not remember is not skipped because the winner does', () => {
    const w: World = {
      enrolled: ['totp'],
      settings: settingsOf.totpOnly,
      policies: [
        { action: 'require_mfa', rememberDays: 30, strong: false, minutes: null, priority: 0 },
        { action: 'require_mfa', rememberDays: null, strong: false, minutes: null, priority: 2 },
      ],
      deviceAgeHours: 1,
      passedMinutesAgo: null,
      individual: false,
    };
    const d = decide(inputOf(w, true));
    expect(d).toMatchObject({ kind: 'challenge', rule: 'R-D3' });
    expect(d).not.toHaveProperty('rememberDays');
    // Both remember: the smaller N is offered, and a device older than it does not count.
    w.policies[1]!.rememberDays = 7;
    expect(decide(inputOf(w, false))).toMatchObject({ kind: 'challenge', rememberDays: 7 });
    w.deviceAgeHours = 8 * 24;
    expect(decide(inputOf(w, true)).rule).not.toBe('R-D15');
  });
});
