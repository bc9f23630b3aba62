import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compilePolicies,
  decide,
  explainPolicies,
  type AmrEntry,
  type BrowserFamily,
  type CriteriaRecord,
  type DecisionInput,
  type Method,
  type MfaSettings,
  type OsFamily,
  type PolicyRecord,
} from '@/lib/policy';
import { DAY, NOW, as, persona, policy, requiredWindow } from './builders';

/*
 * "What if" (issue 18 §4): every policy explained criterion by criterion, by the very code
 * decide() matches with. Personas: Nils the contractor, Dave in engineering and contractors,
 * Eve the engineer, Ivan in no group.
 */
const Nils = persona('Nils', { groups: ['contractors'] });
const Dave = persona('Dave', { groups: ['eng', 'contractors'] });
const Eve = persona('Eve', { groups: ['eng'], enrolled: ['totp'] });
const Ivan = persona('Ivan');

const blockContractorsOnDemo = () => policy('Block contractors on demo').deny().groups('contractors').on('demo');
const officeOnly = () => policy('Deny outside office').deny().ipNotIn('10.0.0.0/8', '2001:db8::/32');
const engMfaExceptContractors = () => policy('Engineering MFA').requireMfa().groups('eng').excluding('contractors');
const macSafariAllowed = () => policy('Macs with Safari').allow().os('macos', 'ios').browser('safari').ipIn('203.0.113.0/24');
const dormant = () => policy('Dormant deny').deny().off();

type Expected = Partial<CriteriaRecord> & { applies: boolean; strictest?: boolean };

interface Row {
  name: string;
  input: () => DecisionInput;
  /** Per policy name. */
  expected: Record<string, Expected>;
}

const rows: Row[] = [
  {
    name: 'Nils on demo: the contractors deny applies on every criterion and is the strictest',
    input: () => as(Nils).resource('demo').policies(blockContractorsOnDemo(), dormant()).build(),
    expected: {
      'Block contractors on demo': { status: 'pass', resource: 'pass', scope: 'pass', exclusion: 'not_set', ipIn: 'not_set', ipNotIn: 'not_set', os: 'not_set', browser: 'not_set', applies: true, strictest: true },
      'Dormant deny': { status: 'fail', resource: 'fail', scope: 'pass', applies: false, strictest: false },
    },
  },
  {
    name: 'Nils on the portal: the deny fails on the resource only',
    input: () => as(Nils).policies(blockContractorsOnDemo()).build(),
    expected: { 'Block contractors on demo': { status: 'pass', resource: 'fail', scope: 'pass', applies: false } },
  },
  {
    name: 'Ivan on demo: not a contractor, so the scope fails',
    input: () => as(Ivan).resource('demo').policies(blockContractorsOnDemo()).build(),
    expected: { 'Block contractors on demo': { resource: 'pass', scope: 'fail', applies: false } },
  },
  {
    name: 'Dave is in eng but also a contractor: exclusion wins (R-C2)',
    input: () => as(Dave).policies(engMfaExceptContractors()).build(),
    expected: { 'Engineering MFA': { scope: 'pass', exclusion: 'fail', applies: false } },
  },
  {
    name: 'Eve is in eng and not excluded: the require-MFA applies',
    input: () => as(Eve).policies(engMfaExceptContractors()).build(),
    expected: { 'Engineering MFA': { scope: 'pass', exclusion: 'pass', applies: true, strictest: true } },
  },
  {
    name: 'Eve from the office: "deny outside office" fails on IP not in',
    input: () => as(Eve).from('10.1.2.3').policies(officeOnly()).build(),
    expected: { 'Deny outside office': { ipIn: 'not_set', ipNotIn: 'fail', unknownAddress: false, applies: false } },
  },
  {
    name: 'Eve from 203.0.113.7 (outside): the deny applies',
    input: () => as(Eve).policies(officeOnly()).build(),
    expected: { 'Deny outside office': { ipNotIn: 'pass', applies: true, strictest: true } },
  },
  {
    name: 'an unknown address counts as a match for a deny (it cannot dodge "outside the office")',
    input: () => as(Eve).from('unknown').policies(officeOnly()).build(),
    expected: { 'Deny outside office': { ipNotIn: 'pass', unknownAddress: true, applies: true } },
  },
  {
    name: 'an unknown address is no match for an allow policy',
    input: () => as(Eve).from('unknown').using('macos', 'safari').policies(macSafariAllowed()).build(),
    expected: { 'Macs with Safari': { os: 'pass', browser: 'pass', ipIn: 'fail', unknownAddress: true, applies: false } },
  },
  {
    name: 'Windows with Chrome from inside the range: OS and browser fail, the range passes',
    input: () => as(Eve).from('203.0.113.9').policies(macSafariAllowed()).build(),
    expected: { 'Macs with Safari': { os: 'fail', browser: 'fail', ipIn: 'pass', applies: false } },
  },
  {
    name: 'two policies apply: the deny outranks the require-MFA; both are explained as applying',
    input: () => as(Eve).policies(officeOnly(), engMfaExceptContractors()).build(),
    expected: {
      'Deny outside office': { applies: true, strictest: true },
      'Engineering MFA': { applies: true, strictest: false },
    },
  },
];

describe('explainPolicies(): why each policy did or did not apply', () => {
  it.each(rows)('$name', ({ input, expected }) => {
    const built = input();
    const explanation = explainPolicies(built);
    expect(explanation.policies.map((p) => p.policy.name).sort()).toEqual(Object.keys(expected).sort());
    for (const p of explanation.policies) {
      const want = expected[p.policy.name]!;
      const { applies, strictest, ...criteria } = want;
      expect(p.applies, p.policy.name).toBe(applies);
      if (strictest !== undefined) expect(p.strictest, p.policy.name).toBe(strictest);
      expect(p.criteria, p.policy.name).toMatchObject(criteria);
    }
    // The policy decide() names, when it names one, is the explanation's strictest.
    const decision = decide(built);
    if ('policy' in decision && decision.policy) expect(explanation.strictest).toEqual(decision.policy);
  });

  it('names the groups a user is included and excluded by', () => {
    const [engMfa] = explainPolicies(as(Dave).policies(engMfaExceptContractors()).build()).policies;
    expect(engMfa).toMatchObject({ includedVia: ['eng'], excludedVia: ['contractors'] });
  });
});

// --- Property: what if == decide --------------------------------------------------------
const GROUPS = ['g1', 'g2', 'g3', 'g4'];
const RESOURCES = ['portal', 'demo', 'billing'];
const CIDRS = ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32', '203.0.113.0/24', '0.0.0.0/0', '::ffff:10.0.0.0/104'];
const IPS = ['10.1.2.3', '192.168.1.5', '2001:db8::5', '::ffff:10.1.2.3', '203.0.113.9', 'unknown', ''];
const OSES: OsFamily[] = ['windows', 'macos', 'ios', 'android', 'linux', 'chromeos', 'other'];
const BROWSERS: BrowserFamily[] = ['chrome', 'edge', 'firefox', 'safari', 'opera', 'other'];
const METHODS: Method[] = ['totp', 'webauthn', 'duo'];
const optionalList = <T,>(pool: T[]) => fc.option(fc.subarray(pool), { nil: undefined });

const recordsArb: fc.Arbitrary<PolicyRecord[]> = fc
  .array(
    fc.record({
      name: fc.constantFrom('Alpha', 'Beta', 'beta', 'Gamma'),
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
      priority: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    }),
    { maxLength: 7 },
  )
  .map((ps) => ps.map((p, i): PolicyRecord => ({ ...p, id: `p${i}`, description: null })));

const passwordOnly: AmrEntry[] = [{ method: 'pwd', at: NOW }];
const withTotp: AmrEntry[] = [...passwordOnly, { method: 'totp', at: NOW }];
const settingsArb: fc.Arbitrary<MfaSettings> = fc.record({ totp: fc.boolean(), webauthn: fc.boolean(), duo: fc.boolean() });

const inputArb: fc.Arbitrary<DecisionInput> = fc
  .record({
    records: recordsArb,
    resource: fc.constantFrom(...RESOURCES),
    amr: fc.constantFrom(passwordOnly, withTotp),
    groups: fc.subarray(GROUPS),
    groupsAsSet: fc.boolean(),
    required: fc.boolean(),
    enrolledMethods: fc.subarray(METHODS),
    settings: settingsArb,
    ip: fc.constantFrom(...IPS),
    os: fc.constantFrom(...OSES),
    browser: fc.constantFrom(...BROWSERS),
  })
  .map((w) => ({
    now: NOW,
    resource: w.resource,
    session: { amr: w.amr, mfaSkipped: false },
    user: { id: 'u1', state: 'active' as const, groupIds: w.groupsAsSet ? new Set(w.groups) : w.groups },
    requirement: w.required ? requiredWindow(-DAY, 6 * DAY) : null,
    enrolledMethods: w.enrolledMethods,
    settings: w.settings,
    request: { ip: w.ip, os: w.os, browser: w.browser },
    policies: compilePolicies(w.records),
  }));

describe('what if agrees with the live decision (property)', () => {
  it('decide() names only a policy explained as applying, and it is the strictest of them', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const explanation = explainPolicies(input);
        const decision = decide(input); // the same input after explaining: explaining changes nothing
        const applying = explanation.policies.filter((p) => p.applies);
        expect(explanation.policies.filter((p) => p.strictest)).toHaveLength(explanation.strictest === null ? 0 : 1);
        if ('policy' in decision && decision.policy) {
          expect(explanation.strictest).toEqual(decision.policy);
          expect(applying.map((p) => p.policy.id)).toContain(decision.policy.id);
        }
        if (decision.kind === 'deny') expect(applying.find((p) => p.strictest)?.action).toBe('deny');
        // No policy applies → no decision names one.
        if (applying.length === 0) expect('policy' in decision ? decision.policy : undefined).toBeUndefined();
        // A deny among the applying policies always wins.
        if (applying.some((p) => p.action === 'deny')) expect(decision.kind).toBe('deny');
      }),
      { numRuns: 800 },
    );
  });

  it('a policy applies exactly when every criterion passes or is not set', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        for (const p of explainPolicies(input).policies) {
          const { unknownAddress: _unknown, ...outcomes } = p.criteria;
          expect(p.applies).toBe(Object.values(outcomes).every((o) => o !== 'fail'));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('decide() on the policies explained as applying, alone, gives the same decision', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const applying = new Set(explainPolicies(input).policies.filter((p) => p.applies).map((p) => p.policy));
        const only = input.policies.filter((p) => applying.has(p.ref));
        expect(decide({ ...input, policies: only })).toStrictEqual(decide(input));
      }),
      { numRuns: 400 },
    );
  });
});
