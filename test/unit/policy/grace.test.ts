import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicies, compilePolicy, decide, type Decision, type DecisionInput, type PolicyRecord } from '@/lib/policy';
import {
  coversUser,
  entryHolds,
  entryOnMembershipChange,
  graceDaysOf,
  graceWindow,
  policiesEntered,
  statusWithGrace,
} from '@/lib/policy/grace';
import { graceWindowsOf } from '@/lib/gate/decision-input';
import { DAY, NOW, as, persona, policy, settingsOf, type PolicyBuilder } from './builders';

/**
 * Issue 18 part 6: grace days when someone newly enters a require-MFA policy's scope
 * (R-D16). Gus joined Sales, under "Sales MFA" with 7 grace days, two days ago: his window
 * ends in five days. Wanda also entered, but has a factor. Ted was in Sales all along and
 * has no window.
 */

// --- Personas -------------------------------------------------------------------------
const Gus = persona('Gus', { groups: ['g-sales'] }); // no factor, joined Sales two days ago
const GusSkipped = persona('Gus', { groups: ['g-sales'], skipped: true }); // took "Skip for now" this session
const Wanda = persona('Wanda', { groups: ['g-sales'], enrolled: ['totp'] }); // entered too, but has an app
const Ted = persona('Ted', { groups: ['g-sales'] }); // in Sales before the policy had grace: no window

// --- Policies -------------------------------------------------------------------------
const withGrace = (b: PolicyBuilder, days: number): PolicyRecord => ({ ...b.build(), graceDays: days });
const salesMfa = () => withGrace(policy('Sales MFA').groups('g-sales'), 7);
const salesKey = () => withGrace(policy('Sales key').groups('g-sales').phishingResistant(), 7);
const salesClosed = () => policy('Sales closed').groups('g-sales').deny();
const everyoneMfa = () => policy('Everyone MFA'); // all users, no grace
const ref = (r: PolicyRecord) => ({ id: r.id, name: r.name });

const windowEnd = NOW + 5 * DAY;
/** Gus's (or Wanda's) window under these policies: policy id → end. */
const windows = (...records: PolicyRecord[]) => new Map(records.map((r) => [r.id, windowEnd]));
const withWindows = (input: DecisionInput, map: Map<string, number> | null): DecisionInput => ({ ...input, graceWindows: map });

interface Row {
  name: string;
  input: () => DecisionInput;
  expected: Decision;
}

const soft = (policyRecord: PolicyRecord, extra: Partial<Decision> = {}): Decision =>
  ({ kind: 'enroll', forced: false, methods: ['totp'], defaultMethod: 'totp', deadline: windowEnd, rule: 'R-D16', policy: ref(policyRecord), ...extra }) as Decision;

const rows: Row[] = [
  {
    name: 'Gus, in his window, sees Set Up with "Skip for now" and the deadline (R-D16)',
    input: () => withWindows(as(Gus).policies(salesMfa()).build(), windows(salesMfa())),
    expected: soft(salesMfa()),
  },
  {
    name: 'Gus skipped this session: he reaches the portal until the window ends',
    input: () => withWindows(as(GusSkipped).policies(salesMfa()).build(), windows(salesMfa())),
    expected: { kind: 'allow', rule: 'R-D16', policy: ref(salesMfa()) },
  },
  {
    name: 'Gus after the window: forced (R-D4)',
    input: () => withWindows(as(Gus).at(windowEnd).policies(salesMfa()).build(), windows(salesMfa())),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: ref(salesMfa()) },
  },
  {
    name: 'Gus skipped, but the window ended: forced, the old skip counts for nothing',
    input: () => withWindows(as(GusSkipped).at(windowEnd + 1).policies(salesMfa()).build(), windows(salesMfa())),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: ref(salesMfa()) },
  },
  {
    name: 'Ted, in scope all along, has no window: forced as today',
    input: () => as(Ted).policies(salesMfa()).build(),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: ref(salesMfa()) },
  },
  {
    name: 'Wanda has an app: challenged as today, grace does not soften a challenge',
    input: () => withWindows(as(Wanda).policies(salesMfa()).build(), windows(salesMfa())),
    expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D3', policy: ref(salesMfa()) },
  },
  {
    name: 'Gus in Sales while Sales is denied: a deny is never softened',
    input: () => withWindows(as(Gus).policies(salesMfa(), salesClosed()).build(), windows(salesMfa())),
    expected: { kind: 'deny', rule: 'R-D2', policy: ref(salesClosed().build()) },
  },
  {
    name: 'Gus is also under "Everyone MFA" (no window there): that policy still forces him',
    input: () => withWindows(as(Gus).policies(salesMfa(), everyoneMfa().priority(-1)).build(), windows(salesMfa())),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: ref(everyoneMfa().build()) },
  },
  {
    name: 'the same, with "Sales MFA" winning on priority: every matching require-MFA policy must give grace',
    input: () => withWindows(as(Gus).policies({ ...salesMfa(), priority: -1 }, everyoneMfa()).build(), windows(salesMfa())),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: ref(salesMfa()) },
  },
  {
    name: 'Gus, without any factor, under a phishing-resistant policy: grace to get a key, offered only WebAuthn',
    input: () => withWindows(as(Gus).settings(settingsOf.totpAndWebauthn).policies(salesKey()).build(), windows(salesKey())),
    expected: soft(salesKey(), { methods: ['webauthn'], defaultMethod: 'webauthn', strength: 'phishing_resistant' } as Partial<Decision>),
  },
  {
    name: 'Wanda (an app) under a phishing-resistant policy: steps up to a key at once, no grace (R-D13)',
    input: () => withWindows(as(Wanda).settings(settingsOf.totpAndWebauthn).policies(salesKey()).build(), windows(salesKey())),
    expected: {
      kind: 'enroll',
      forced: true,
      methods: ['webauthn'],
      defaultMethod: 'webauthn',
      deadline: null,
      rule: 'R-D13',
      policy: ref(salesKey()),
      strength: 'phishing_resistant',
    },
  },
];

describe('decide(): grace days on entering a policy (R-D16)', () => {
  it.each(rows)('$name', ({ input, expected }) => {
    expect(decide(input())).toEqual(expected);
  });
});

describe('who newly enters a policy (lib/policy/grace.ts)', () => {
  const [sales] = compilePolicies([salesMfa()]);
  const noContractors = compilePolicy(withGrace(policy('All but contractors').excluding('g-contractors'), 3));
  const g = (...ids: string[]) => new Set(ids);

  it('Gus joining Sales enters "Sales MFA"; Ted, already in Sales through Support too, does not', () => {
    const both = compilePolicy(withGrace(policy('Sales or support').groups('g-sales', 'g-support'), 7));
    const predicate = entryOnMembershipChange(both, 'g-sales', 'joined')!;
    expect(entryHolds(predicate, g('g-sales'))).toBe(true); // Gus
    expect(entryHolds(predicate, g('g-sales', 'g-support'))).toBe(false); // Ted
  });
  it('leaving an excluded group enters an All Users policy, unless another exclusion still holds', () => {
    const twoExclusions = compilePolicy(withGrace(policy('All but two').excluding('g-contractors', 'g-bots'), 3));
    const predicate = entryOnMembershipChange(twoExclusions, 'g-contractors', 'left')!;
    expect(entryHolds(predicate, g())).toBe(true);
    expect(entryHolds(predicate, g('g-bots'))).toBe(false);
    expect(entryOnMembershipChange(noContractors, 'g-contractors', 'joined')).toBeNull();
  });
  it('no grace, OFF, allow, or a group the policy does not name: nobody enters', () => {
    expect(entryOnMembershipChange(compilePolicy(policy('No grace').groups('g-sales').build()), 'g-sales', 'joined')).toBeNull();
    expect(entryOnMembershipChange(compilePolicy({ ...salesMfa(), enabled: false }), 'g-sales', 'joined')).toBeNull();
    expect(entryOnMembershipChange(compilePolicy({ ...salesMfa(), action: 'allow' }), 'g-sales', 'joined')).toBeNull();
    expect(entryOnMembershipChange(sales!, 'g-support', 'joined')).toBeNull();
    expect(entryOnMembershipChange(sales!, 'g-sales', 'left')).toBeNull();
  });
  it('activation enters every policy with grace that covers the user', () => {
    const entered = policiesEntered([sales!, noContractors], { active: false, groups: g('g-sales') }, { active: true, groups: g('g-sales') });
    expect(entered.map((p) => p.name)).toEqual(['Sales MFA', 'All but contractors']);
  });
  it('a window is N whole days from now; a damaged grace reads as none, and is clamped to 365', () => {
    expect(graceWindow(NOW, 7)).toEqual({ startsAt: NOW, endsAt: NOW + 7 * DAY });
    expect([graceDaysOf(undefined), graceDaysOf('7'), graceDaysOf(Number.NaN), graceDaysOf(-3), graceDaysOf(9999)]).toEqual([0, 0, 0, 0, 365]);
    expect(compilePolicy({ ...salesMfa(), action: 'deny' }).graceDays).toBe(0);
  });
});

describe('the MFA column with grace (R-F1, statusWithGrace)', () => {
  const window = { startsAt: NOW - DAY, endsAt: NOW + 6 * DAY };
  const notEnrolled = { status: 'not_enrolled' as const, startsAt: null, endsAt: null };
  it('Gus, active without a factor, in his window: "in enrollment period" with the window\'s dates', () => {
    expect(statusWithGrace(notEnrolled, window, { state: 'active', enrolled: false })).toEqual({ status: 'enrollment_period', ...window });
    expect(statusWithGrace({ status: 'expired', startsAt: 1, endsAt: 2 }, window, { state: 'active', enrolled: false })).toEqual({ status: 'enrollment_period', ...window });
  });
  it('enrolled, suspended, no window, or an individual period running: unchanged', () => {
    const enrolled = { status: 'enrolled' as const, startsAt: null, endsAt: null };
    const period = { status: 'enrollment_period' as const, startsAt: NOW, endsAt: NOW + DAY };
    expect(statusWithGrace(enrolled, window, { state: 'active', enrolled: true })).toBe(enrolled);
    expect(statusWithGrace(notEnrolled, window, { state: 'suspended', enrolled: false })).toBe(notEnrolled);
    expect(statusWithGrace(notEnrolled, null, { state: 'active', enrolled: false })).toBe(notEnrolled);
    expect(statusWithGrace(period, window, { state: 'active', enrolled: false })).toBe(period);
  });
});

describe('the access facts\' grace windows (graceWindowsOf)', () => {
  it('reads "policyId:endsAt" pairs, and drops a pair that does not parse (no window is the stricter reading)', () => {
    expect(graceWindowsOf(null)).toBeNull();
    expect(graceWindowsOf('p-1:100,p-2:200')).toEqual(new Map([['p-1', 100], ['p-2', 200]]));
    expect(graceWindowsOf('p-1:soon,:5,p-2:200')).toEqual(new Map([['p-2', 200]]));
    expect(graceWindowsOf('garbage')).toBeNull();
  });
});

// --- Properties -----------------------------------------------------------------------
const GROUPS = ['g-a', 'g-b', 'g-c'] as const;
const groupsArb = fc.subarray([...GROUPS]);
const policyArb = fc.record({
  allUsers: fc.boolean(),
  include: fc.subarray([...GROUPS], { minLength: 1 }),
  exclude: fc.subarray([...GROUPS]),
  graceDays: fc.integer({ min: 0, max: 365 }),
  enabled: fc.boolean(),
  action: fc.constantFrom('allow', 'require_mfa', 'deny'),
});
type PolicyShape = typeof policyArb extends fc.Arbitrary<infer T> ? T : never;
const recordOf = (s: PolicyShape, i: number): PolicyRecord => ({
  ...policy(`P${i}`).build(),
  scope: s.allUsers ? 'all' : 'groups',
  includeGroupIds: s.allUsers ? [] : s.include,
  excludeGroupIds: s.exclude,
  graceDays: s.graceDays,
  enabled: s.enabled,
  action: s.action as PolicyRecord['action'],
});

describe('grace properties', () => {
  it('the set-based predicate agrees with "covered after and not before", for every membership change', () => {
    fc.assert(
      fc.property(policyArb, groupsArb, fc.constantFrom(...GROUPS), fc.constantFrom('joined', 'left' as const), (shape, others, group, direction) => {
        const p = compilePolicy(recordOf(shape, 0));
        const after = new Set(others.filter((x) => x !== group));
        const before = new Set(after);
        if (direction === 'joined') after.add(group);
        else before.add(group);
        const expected = policiesEntered([p], { active: true, groups: before }, { active: true, groups: after }).length === 1;
        const predicate = entryOnMembershipChange(p, group, direction);
        expect(predicate !== null && entryHolds(predicate, after)).toBe(expected);
      }),
    );
  });

  it('grace only for the newly in scope: nobody covered before enters, whatever changed', () => {
    fc.assert(
      fc.property(fc.array(policyArb, { maxLength: 4 }), groupsArb, groupsArb, (shapes, before, after) => {
        const ps = compilePolicies(shapes.map(recordOf));
        const entered = policiesEntered(ps, { active: true, groups: new Set(before) }, { active: true, groups: new Set(after) });
        for (const p of entered) {
          expect(coversUser(p, true, new Set(before))).toBe(false);
          expect(coversUser(p, true, new Set(after))).toBe(true);
          expect(p.graceDays).toBeGreaterThan(0);
        }
        // A policy edit changes no one's groups: the same side before and after enters nobody.
        expect(policiesEntered(ps, { active: true, groups: new Set(after) }, { active: true, groups: new Set(after) })).toEqual([]);
      }),
    );
  });

  const worldArb = fc.record({
    shapes: fc.array(policyArb, { minLength: 1, maxLength: 4 }),
    groups: groupsArb,
    enrolled: fc.subarray(['totp', 'webauthn'] as const),
    skipped: fc.boolean(),
    /** Window end relative to now, in hours (negative: ended). */
    endsIn: fc.integer({ min: -48, max: 48 }),
    aal2: fc.boolean(),
  });
  type World = typeof worldArb extends fc.Arbitrary<infer T> ? T : never;
  const inputOf = (w: World, withWindows: boolean): DecisionInput => {
    const who = persona('Pat', { groups: w.groups, enrolled: [...w.enrolled], skipped: w.skipped, aal: w.aal2 ? 2 : 1 });
    const records = w.shapes.map(recordOf);
    const input = as(who).settings(settingsOf.totpAndWebauthn).policies(...records).build();
    return { ...input, graceWindows: withWindows ? new Map(records.map((r) => [r.id, NOW + w.endsIn * 3_600_000])) : null };
  };

  it('grace changes nothing for an enrolled user, after the window ends, or where a deny applies', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const withGraceDecision = decide(inputOf(w, true));
        const without = decide(inputOf(w, false));
        if (w.enrolled.length > 0 || w.endsIn <= 0 || without.kind === 'deny') expect(withGraceDecision).toEqual(without);
      }),
    );
  });

  it('grace only ever turns a forced enrollment into a skippable one (R-D16), never anything else', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const withGraceDecision = decide(inputOf(w, true));
        const without = decide(inputOf(w, false));
        if (withGraceDecision.rule !== 'R-D16') {
          expect(withGraceDecision).toEqual(without);
          return;
        }
        expect(without).toMatchObject({ kind: 'enroll', forced: true });
        expect(w.enrolled).toEqual([]);
        if (withGraceDecision.kind === 'enroll') {
          expect(withGraceDecision.forced).toBe(false);
          expect(withGraceDecision.deadline).toBe(NOW + w.endsIn * 3_600_000);
        } else expect(withGraceDecision.kind).toBe('allow');
      }),
    );
  });
});
