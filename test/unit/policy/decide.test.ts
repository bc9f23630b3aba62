import { describe, expect, it } from 'vitest';
import { decide, type Decision, type DecisionInput, type Method } from '@/lib/policy';
import { DAY, NOW, as, pendingActivation, persona, policy, requiredWindow, settingsOf, type PolicyBuilder } from './builders';

// --- Personas -------------------------------------------------------------------------
const running = requiredWindow(-1 * DAY, 6 * DAY);
const Ivan = persona('Ivan'); // active, nothing required, no factors, no groups
const Ada = persona('Ada', { enrolled: ['totp'] });
const AdaRequired = persona('Ada', { enrolled: ['totp'], requirement: running });
const AdaPassed = persona('Ada', { enrolled: ['totp'], aal: 2 });
const AdaLifted = persona('Ada', { enrolled: ['totp'], requirement: { required: false, enrollmentDays: 7, periodStartsAt: null, periodEndsAt: null } });
const Walt = persona('Walt', { enrolled: ['webauthn'] }); // a security key, nothing required
const Judy = persona('Judy', { enrolled: ['webauthn'], requirement: running });
const Bob = persona('Bob', { state: 'staged', requirement: pendingActivation });
const Sam = persona('Sam', { state: 'suspended', enrolled: ['totp'] });
const Carol = persona('Carol', { requirement: running });
const CarolSkipped = persona('Carol', { requirement: running, skipped: true });
const CarolInEng = persona('Carol', { requirement: running, groups: ['eng'] });
const Erin = persona('Erin', { requirement: requiredWindow(-7 * DAY, 0) }); // ends exactly now
const Frank = persona('Frank', { requirement: requiredWindow(-7 * DAY + 1, 1) }); // ends 1 ms from now
const Grace = persona('Grace', { requirement: requiredWindow(-8 * DAY, -1 * DAY) });
const GraceSkipped = persona('Grace', { requirement: requiredWindow(-8 * DAY, -1 * DAY), skipped: true });
const GraceReset = persona('Grace', { requirement: requiredWindow(0, 7 * DAY) });
const GraceInEng = persona('Grace', { requirement: requiredWindow(-8 * DAY, -1 * DAY), groups: ['eng'] });
const AdaExpired = persona('Ada', { enrolled: ['totp'], requirement: requiredWindow(-8 * DAY, -1 * DAY) });
const Mallory = persona('Mallory', { requirement: { required: true, enrollmentDays: 7, periodStartsAt: NOW, periodEndsAt: null } });
const Heidi = persona('Heidi', { enrolled: ['totp'], requirement: running, aal: 2 });
const HeidiUnenrolledAal2 = persona('Heidi', { requirement: requiredWindow(-8 * DAY, -1 * DAY), aal: 2, groups: ['eng'] });
const Eve = persona('Eve', { groups: ['eng'] }); // in eng, no factor
const EveSkipped = persona('Eve', { groups: ['eng'], skipped: true });
const EveEnrolled = persona('Eve', { groups: ['eng'], enrolled: ['totp'] });
const EveAal2 = persona('Eve', { groups: ['eng'], enrolled: ['totp'], aal: 2 });
const Dave = persona('Dave', { groups: ['eng', 'contractors'] });

// --- Policies (fresh builders each time: builders are mutable) ------------------------
const engMfa = () => policy('Engineering MFA').requireMfa().groups('eng');
const officeOnly = () => policy('Deny outside office').deny().ipNotIn('10.0.0.0/8', '2001:db8::/32');
const vpnMfa = () => policy('VPN needs MFA').requireMfa().ipIn('10.0.0.0/8', '2001:db8::/32');
const allowOffice = () => policy('Office allowed').allow().ipIn('10.0.0.0/8');
const named = (b: PolicyBuilder) => {
  const r = b.build();
  return { id: r.id, name: r.name };
};

const soft = (deadline: number, methods: Method[] = ['totp']): Decision => ({
  kind: 'enroll',
  forced: false,
  methods,
  defaultMethod: methods[0]!,
  deadline,
  rule: 'R-D5',
});

interface Row {
  name: string;
  input: () => DecisionInput;
  expected: Decision;
}

const rows: Row[] = [
  // R-D1 / R-D7: who signs in at all
  { name: 'R-D1 anonymous visitor (no session) → sign in', input: () => as(null).build(), expected: { kind: 'login', rule: 'R-D1' } },
  { name: 'R-D1 a session whose user is gone → sign in', input: () => ({ ...as(Ivan).build(), user: null }), expected: { kind: 'login', rule: 'R-D1' } },
  { name: 'R-D7 Bob, staged (pre-enrollment) → sign in even with a session', input: () => as(Bob).build(), expected: { kind: 'login', rule: 'R-D7' } },
  { name: 'R-D1 Sam, suspended → sign in, even where an allow policy matches', input: () => as(Sam).policies(policy('Everyone').allow()).build(), expected: { kind: 'login', rule: 'R-D1' } },

  // R-D8: nothing required
  { name: 'R-D8 Ivan, nothing required, no policies → allowed', input: () => as(Ivan).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  // R-D11: a factor a person set up protects them, even when nothing requires MFA.
  { name: 'R-D11 Ada, enrolled in TOTP but not required → challenged for it', input: () => as(Ada).build(), expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D11' } },
  { name: 'R-D11 Ada with the org setting off → allowed without a challenge (R-D8)', input: () => as(Ada).withoutOwnFactorChallenge().build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-D11 Ada passed her second factor (aal2) → allowed', input: () => as(AdaPassed).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-D11 Ada, requirement lifted (required: false) → still challenged', input: () => as(AdaLifted).build(), expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D11' } },
  { name: 'R-D11 an allow policy does not cancel Ada\'s own factor', input: () => as(Ada).from('10.1.1.1').policies(allowOffice()).build(), expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D11' } },
  { name: 'R-D11 Ada, TOTP and Duo enabled → Duo offered beside her TOTP', input: () => as(Ada).settings(settingsOf.totpAndDuo).build(), expected: { kind: 'challenge', methods: ['totp', 'duo'], rule: 'R-D11' } },
  { name: 'R-D11 Walt, a security key only, TOTP+WebAuthn → challenged for the key', input: () => as(Walt).settings(settingsOf.totpAndWebauthn).build(), expected: { kind: 'challenge', methods: ['webauthn'], rule: 'R-D11' } },
  { name: 'R-D11 Walt\'s key with WebAuthn disabled (TOTP only) → a factor of a disabled method asks nothing', input: () => as(Walt).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-D11 Ivan, no factor, Duo-only settings → allowed: R-D11 never invents a factor', input: () => as(Ivan).settings(settingsOf.duoOnly).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-D11 a deny policy still beats Ada\'s own factor', input: () => as(Ada).policies(policy('Lockdown').deny()).build(), expected: { kind: 'deny', rule: 'R-D2', policy: { id: 'p-lockdown', name: 'Lockdown' } } },
  { name: 'R-D8 a matching allow policy is named', input: () => as(Ivan).from('10.1.1.1').policies(allowOffice()).build(), expected: { kind: 'allow', rule: 'R-D8', policy: named(allowOffice()) } },
  { name: 'R-D8 an allow policy does not cancel an individual requirement', input: () => as(Carol).from('10.1.1.1').policies(allowOffice()).build(), expected: soft(NOW + 6 * DAY) },

  // R-D3: challenge
  { name: 'R-D3 Ada, required and enrolled in TOTP → TOTP challenge', input: () => as(AdaRequired).build(), expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D3' } },
  { name: 'R-D3 Heidi already passed a second factor (aal2) → allowed', input: () => as(Heidi).build(), expected: { kind: 'allow', rule: 'R-D3' } },
  { name: 'R-D3 aal2 is never sent to enrollment, even with an expired period and a forcing policy', input: () => as(HeidiUnenrolledAal2).policies(engMfa()).build(), expected: { kind: 'allow', rule: 'R-D3', policy: named(engMfa()) } },
  { name: 'R-D3/R-E5 Ada, TOTP and Duo enabled → challenge offers TOTP and Duo', input: () => as(AdaRequired).settings(settingsOf.totpAndDuo).build(), expected: { kind: 'challenge', methods: ['totp', 'duo'], rule: 'R-D3' } },
  { name: 'R-D3 Judy, WebAuthn factor, TOTP+WebAuthn enabled → WebAuthn challenge', input: () => as(Judy).settings(settingsOf.totpAndWebauthn).build(), expected: { kind: 'challenge', methods: ['webauthn'], rule: 'R-D3' } },
  { name: 'R-D3 Judy, WebAuthn factor but only TOTP enabled → not enrolled: set up TOTP', input: () => as(Judy).build(), expected: soft(NOW + 6 * DAY) },
  { name: 'R-D3 enrolled in both, all methods on → all offered, canonical order', input: () => as(persona('Zed', { enrolled: ['webauthn', 'totp', 'totp'], requirement: running })).settings(settingsOf.all).build(), expected: { kind: 'challenge', methods: ['totp', 'webauthn', 'duo'], rule: 'R-D3' } },
  { name: 'R-E5 Duo only: Carol counts as enrolled via Duo → Duo challenge', input: () => as(Carol).settings(settingsOf.duoOnly).build(), expected: { kind: 'challenge', methods: ['duo'], rule: 'R-D3' } },
  { name: 'R-E5 Duo only with a forcing policy → Duo challenge naming the policy', input: () => as(Eve).settings(settingsOf.duoOnly).policies(engMfa()).build(), expected: { kind: 'challenge', methods: ['duo'], rule: 'R-D3', policy: named(engMfa()) } },
  { name: 'R-B6 Ada enrolled before her period expired → challenge, not locked', input: () => as(AdaExpired).build(), expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D3' } },

  // R-D5: soft TOTP enrollment
  { name: 'R-D5 Carol, required 7 days, period running → Set Up with Skip', input: () => as(Carol).build(), expected: soft(NOW + 6 * DAY) },
  { name: 'R-D5 Carol skipped earlier in this session → reaches the resource', input: () => as(CarolSkipped).build(), expected: { kind: 'allow', rule: 'R-D5' } },
  { name: 'R-D5 Frank, period ends 1 ms from now → still Set Up with Skip', input: () => as(Frank).build(), expected: soft(NOW + 1) },
  { name: 'R-E3 Carol, TOTP and WebAuthn → she chooses, TOTP by default', input: () => as(Carol).settings(settingsOf.totpAndWebauthn).build(), expected: soft(NOW + 6 * DAY, ['totp', 'webauthn']) },
  { name: 'R-E2 Carol, TOTP and Duo → TOTP setup (Duo is no setup step)', input: () => as(Carol).settings(settingsOf.totpAndDuo).build(), expected: soft(NOW + 6 * DAY) },
  {
    name: 'R-E4/R-B3 Carol, WebAuthn and Duo → must set up WebAuthn, no skip',
    input: () => as(Carol).settings(settingsOf.webauthnAndDuo).build(),
    expected: { kind: 'enroll', forced: true, methods: ['webauthn'], defaultMethod: 'webauthn', deadline: NOW + 6 * DAY, rule: 'R-D5' },
  },
  {
    name: 'R-B3 Carol skipped, WebAuthn and Duo → the skip does not apply',
    input: () => as(CarolSkipped).settings(settingsOf.webauthnAndDuo).build(),
    expected: { kind: 'enroll', forced: true, methods: ['webauthn'], defaultMethod: 'webauthn', deadline: NOW + 6 * DAY, rule: 'R-D5' },
  },
  {
    name: 'R-B3 Ada has TOTP but only WebAuthn+Duo are enabled → not enrolled, WebAuthn setup',
    input: () => as(AdaRequired).settings(settingsOf.webauthnAndDuo).build(),
    expected: { kind: 'enroll', forced: true, methods: ['webauthn'], defaultMethod: 'webauthn', deadline: NOW + 6 * DAY, rule: 'R-D5' },
  },
  { name: 'R-A2 damaged WebAuthn-only settings fall back to TOTP setup', input: () => as(Carol).settings(settingsOf.webauthnOnly).build(), expected: soft(NOW + 6 * DAY) },
  { name: 'R-A2 damaged WebAuthn-only settings still accept a WebAuthn factor', input: () => as(Judy).settings(settingsOf.webauthnOnly).build(), expected: { kind: 'challenge', methods: ['webauthn'], rule: 'R-D3' } },

  // R-D6: locked
  { name: 'R-D6 Erin, period ended exactly now → locked (the window is [start, end))', input: () => as(Erin).build(), expected: { kind: 'locked', reason: 'enrollment_expired', expiredAt: NOW, rule: 'R-D6' } },
  { name: 'R-D6 Grace, period ended yesterday → locked', input: () => as(Grace).build(), expected: { kind: 'locked', reason: 'enrollment_expired', expiredAt: NOW - DAY, rule: 'R-D6' } },
  { name: 'R-D6 Grace skipped earlier → a skip does not outlive the period', input: () => as(GraceSkipped).build(), expected: { kind: 'locked', reason: 'enrollment_expired', expiredAt: NOW - DAY, rule: 'R-D6' } },
  { name: 'R-D6 Mallory, required without a period end (data error) → locked, fail closed', input: () => as(Mallory).build(), expected: { kind: 'locked', reason: 'enrollment_expired', expiredAt: null, rule: 'R-D6' } },
  { name: 'R-F4 Grace after an admin reset (new period) → Set Up with Skip again', input: () => as(GraceReset).build(), expected: soft(NOW + 7 * DAY) },

  // R-C7 / R-D4: forced enrollment
  {
    name: 'R-C7 Eve in eng, "Engineering MFA" policy, no factor → forced Set Up, no skip',
    input: () => as(Eve).policies(engMfa()).build(),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(engMfa()) },
  },
  {
    name: 'R-C7 forced enrollment is not skippable (Eve skipped earlier)',
    input: () => as(EveSkipped).policies(engMfa()).build(),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(engMfa()) },
  },
  {
    name: 'R-C7 a policy outranks Carol\'s soft period → forced Set Up',
    input: () => as(CarolInEng).settings(settingsOf.totpAndWebauthn).policies(engMfa()).build(),
    expected: { kind: 'enroll', forced: true, methods: ['totp', 'webauthn'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(engMfa()) },
  },
  {
    name: 'R-C7 Grace expired but a policy forces enrollment → Set Up rather than locked (R-D4 before R-D6)',
    input: () => as(GraceInEng).policies(engMfa()).build(),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(engMfa()) },
  },
  { name: 'R-C7/R-D3 Eve enrolled → challenge naming the policy', input: () => as(EveEnrolled).policies(engMfa()).build(), expected: { kind: 'challenge', methods: ['totp'], rule: 'R-D3', policy: named(engMfa()) } },
  { name: 'R-C7/R-D3 Eve passed the challenge (aal2) → allowed, naming the policy', input: () => as(EveAal2).policies(engMfa()).build(), expected: { kind: 'allow', rule: 'R-D3', policy: named(engMfa()) } },
  {
    name: 'R-A2 damaged settings with nothing enabled still force TOTP setup',
    input: () => as(Eve).settings(settingsOf.none).policies(engMfa()).build(),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(engMfa()) },
  },

  // R-C1: OFF policies
  { name: 'R-C1 an OFF deny policy has no effect', input: () => as(Ivan).policies(policy('Lockdown').deny().off()).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C1 an OFF require-MFA policy has no effect', input: () => as(Eve).policies(engMfa().off()).build(), expected: { kind: 'allow', rule: 'R-D8' } },

  // R-C2: users
  { name: 'R-C2 Dave, in eng but also in excluded contractors → excluded beats included', input: () => as(Dave).policies(engMfa().excluding('contractors')).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C2 Dave excluded from an All Users deny', input: () => as(Dave).policies(policy('Lockdown').deny().excluding('contractors')).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C2 Ivan is not in the selected group → policy does not apply', input: () => as(Ivan).policies(engMfa()).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C2 selected groups with no groups selected cover nobody', input: () => as(Eve).policies(policy('Nobody').deny().groups()).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  {
    name: 'R-C2 group ids given as an array work the same as a Set',
    input: () => as(Dave).groupsAsArray().policies(engMfa(), policy('No contractors').deny().groups('contractors').on('demo')).build(),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(engMfa()) },
  },
  { name: 'R-C2 array group ids: exclusion still wins', input: () => as(Dave).groupsAsArray().policies(engMfa().excluding('contractors')).build(), expected: { kind: 'allow', rule: 'R-D8' } },

  // R-C3: conditions
  { name: 'R-C3 IPv4 in range (10.1.2.3 in 10.0.0.0/8) → policy applies', input: () => as(Ivan).from('10.1.2.3').policies(vpnMfa()).build(), expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(vpnMfa()) } },
  { name: 'R-C3 IPv4 out of range (11.0.0.1) → policy does not apply', input: () => as(Ivan).from('11.0.0.1').policies(vpnMfa()).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C3 IPv6 in range (2001:db8:1::5 in 2001:db8::/32) → applies', input: () => as(Ivan).from('2001:db8:1::5').policies(vpnMfa()).build(), expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(vpnMfa()) } },
  { name: 'R-C3 IPv6 out of range (2001:db9::1) → does not apply', input: () => as(Ivan).from('2001:db9::1').policies(vpnMfa()).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C3 IPv4-mapped IPv6 (::ffff:10.1.2.3) matches an IPv4 range', input: () => as(Ivan).from('::ffff:10.1.2.3').policies(vpnMfa()).build(), expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(vpnMfa()) } },
  { name: 'R-C3 not-in: from outside the office → denied, naming the policy', input: () => as(Ivan).from('198.51.100.1').policies(officeOnly()).build(), expected: { kind: 'deny', rule: 'R-D2', policy: named(officeOnly()) } },
  { name: 'R-C3 not-in: from the office → allowed', input: () => as(Ivan).from('10.9.8.7').policies(officeOnly()).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C3 not-in: from the office over IPv6 → allowed', input: () => as(Ivan).from('2001:DB8::42').policies(officeOnly()).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C3 not-in: IPv4-mapped office address → allowed', input: () => as(Ivan).from('::ffff:10.9.8.7').policies(officeOnly()).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C3 not-in: IPv4-mapped outside address → denied', input: () => as(Ivan).from('::ffff:198.51.100.1').policies(officeOnly()).build(), expected: { kind: 'deny', rule: 'R-D2', policy: named(officeOnly()) } },
  { name: 'R-C3/R-I1 unknown address cannot dodge "deny outside the office"', input: () => as(Ivan).from('unknown').policies(officeOnly()).build(), expected: { kind: 'deny', rule: 'R-D2', policy: named(officeOnly()) } },
  { name: 'R-C3/R-I1 unknown address still gets "require MFA on the VPN"', input: () => as(Ivan).from('').policies(vpnMfa()).build(), expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(vpnMfa()) } },
  { name: 'R-C3/R-I1 a spoofed-looking address matches no allow policy', input: () => as(Ivan).from('10.1.2.3, 1.2.3.4').policies(allowOffice()).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C3 OS condition holds (android) → denied', input: () => as(Ivan).using('android', 'chrome').policies(policy('No Android').deny().os('android')).build(), expected: { kind: 'deny', rule: 'R-D2', policy: { id: 'p-no-android', name: 'No Android' } } },
  { name: 'R-C3 OS condition fails (windows) → allowed', input: () => as(Ivan).using('windows', 'chrome').policies(policy('No Android').deny().os('android')).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C3 browser condition holds (firefox) → MFA forced', input: () => as(Ivan).using('linux', 'firefox').policies(policy('Firefox MFA').requireMfa().browser('firefox', 'safari')).build(), expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: { id: 'p-firefox-mfa', name: 'Firefox MFA' } } },
  { name: 'R-C3 browser condition fails (chrome) → allowed', input: () => as(Ivan).using('linux', 'chrome').policies(policy('Firefox MFA').requireMfa().browser('firefox')).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C3 all conditions must hold: OS matches, browser does not → no effect', input: () => as(Ivan).using('android', 'chrome').policies(policy('Android Firefox').deny().os('android').browser('firefox')).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C3 all conditions hold: IP, OS and browser → applies', input: () => as(Ivan).from('10.0.0.1').using('android', 'firefox').policies(policy('Android Firefox').deny().os('android').browser('firefox').ipIn('10.0.0.0/24')).build(), expected: { kind: 'deny', rule: 'R-D2', policy: { id: 'p-android-firefox', name: 'Android Firefox' } } },

  // R-C4: resources
  { name: 'R-C4 a policy for "demo" does not apply to the portal', input: () => as(Ivan).policies(policy('Demo lockdown').deny().on('demo')).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C4 a policy for "demo" applies on demo', input: () => as(Ivan).resource('demo').policies(policy('Demo lockdown').deny().on('demo')).build(), expected: { kind: 'deny', rule: 'R-D2', policy: { id: 'p-demo-lockdown', name: 'Demo lockdown' } } },
  { name: 'R-C4 a portal policy does not apply to demo', input: () => as(Eve).resource('demo').policies(engMfa()).build(), expected: { kind: 'allow', rule: 'R-D8' } },
  { name: 'R-C4 a policy for portal and demo applies on demo', input: () => as(Eve).resource('demo').policies(engMfa().on('portal', 'demo')).build(), expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(engMfa()) } },

  // R-C6 / R-D2: strictest wins
  {
    name: 'R-C6 allow, require MFA and deny all match → deny wins and is named',
    input: () => as(Eve).from('198.51.100.1').policies(policy('Everyone allowed').allow(), engMfa(), officeOnly()).build(),
    expected: { kind: 'deny', rule: 'R-D2', policy: named(officeOnly()) },
  },
  {
    name: 'R-C6 allow and require MFA match → require MFA wins and is named',
    input: () => as(Eve).policies(policy('Everyone allowed').allow(), engMfa()).build(),
    expected: { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4', policy: named(engMfa()) },
  },
  {
    name: 'R-C6 two deny policies → the lower priority number is named',
    input: () => as(Ivan).policies(policy('A first by name').deny().priority(2), policy('Z first by priority').deny().priority(1)).build(),
    expected: { kind: 'deny', rule: 'R-D2', policy: { id: 'p-z-first-by-priority', name: 'Z first by priority' } },
  },
  {
    name: 'R-C6 two deny policies, same priority → the first by name is named',
    input: () => as(Ivan).policies(policy('Beta').deny().priority(1), policy('Alpha').deny().priority(1)).build(),
    expected: { kind: 'deny', rule: 'R-D2', policy: { id: 'p-alpha', name: 'Alpha' } },
  },
  {
    name: 'R-C6 a policy with a priority precedes one without',
    input: () => as(Ivan).policies(policy('Alpha').allow(), policy('Zulu').allow().priority(10)).build(),
    expected: { kind: 'allow', rule: 'R-D8', policy: { id: 'p-zulu', name: 'Zulu' } },
  },
  { name: 'R-C5 an unknown action is treated as deny (fail closed)', input: () => as(Ivan).policies(policy('From the future').action('quarantine')).build(), expected: { kind: 'deny', rule: 'R-D2', policy: { id: 'p-from-the-future', name: 'From the future' } } },
  { name: 'R-D2 deny beats a session that passed MFA', input: () => as(Heidi).policies(policy('Lockdown').deny()).build(), expected: { kind: 'deny', rule: 'R-D2', policy: { id: 'p-lockdown', name: 'Lockdown' } } },
  { name: 'R-D2 deny beats an enrolled, required user', input: () => as(AdaRequired).policies(policy('Lockdown').deny()).build(), expected: { kind: 'deny', rule: 'R-D2', policy: { id: 'p-lockdown', name: 'Lockdown' } } },
];

describe('decide() — personas against SPEC B, C, D, E', () => {
  it.each(rows)('$name', ({ input, expected }) => {
    expect(decide(input())).toStrictEqual(expected);
  });

  it('has a case for every decision rule R-D1..R-D8 and R-D11', () => {
    const seen = new Set(rows.map((r) => decide(r.input()).rule));
    for (const rule of ['R-D1', 'R-D2', 'R-D3', 'R-D4', 'R-D5', 'R-D6', 'R-D7', 'R-D8', 'R-D11']) expect(seen).toContain(rule);
  });

  it('does not depend on the order of the compiled policies', () => {
    const input = as(Eve).from('198.51.100.1').policies(policy('Everyone allowed').allow(), engMfa(), officeOnly(), policy('Also deny').deny().priority(5)).build();
    const expected = decide(input);
    expect(decide({ ...input, policies: [...input.policies].reverse() })).toStrictEqual(expected);
  });

  it('reads the clock only from input.now', () => {
    const input = as(Carol).build();
    expect(decide({ ...input, now: NOW + 6 * DAY - 1 }).kind).toBe('enroll');
    expect(decide({ ...input, now: NOW + 6 * DAY }).kind).toBe('locked');
  });
});
