import { describe, expect, it } from 'vitest';
import type { Decision, Method } from '@/lib/policy';
import {
  afterMethodChosen,
  afterWebauthnRegistered,
  freshSecondFactorMs,
  isFreshSecondFactor,
  nextState,
  pathOf,
  recoveredChoices,
  totpSetupAccess,
  totpStartPath,
  withNotice,
  type SetupContext,
  type SetupEvent,
  type SetupState,
} from '@/lib/factors/setup-flow';

const forcedTotp: SetupContext = { forced: true, methods: ['totp'] };
const softTotp: SetupContext = { forced: false, methods: ['totp'] };
const totpAndWebauthn: SetupContext = { forced: true, methods: ['totp', 'webauthn'] };

// [state, event, context, next] — null means the event is refused in that state.
const table: [SetupState, SetupEvent, SetupContext, SetupState | null][] = [
  ['choose_method', { type: 'choose', method: 'totp' }, forcedTotp, 'totp_scan'],
  ['choose_method', { type: 'choose', method: 'webauthn' }, forcedTotp, null], // not offered (R-E2)
  ['choose_method', { type: 'choose', method: 'webauthn' }, totpAndWebauthn, 'webauthn_register'], // R-E3
  ['choose_method', { type: 'choose', method: 'duo' }, { forced: true, methods: ['totp', 'duo'] }, null], // R-E5
  ['choose_method', { type: 'skip' }, softTotp, 'done'], // R-D5
  ['choose_method', { type: 'skip' }, forcedTotp, null], // R-E1: forced, no skip
  ['choose_method', { type: 'codes_acknowledged' }, softTotp, null],
  ['totp_scan', { type: 'totp_rejected' }, forcedTotp, 'totp_scan'],
  ['totp_scan', { type: 'pending_expired' }, forcedTotp, 'totp_scan'],
  ['totp_scan', { type: 'totp_verified', firstFactor: true }, forcedTotp, 'recovery_codes'],
  ['totp_scan', { type: 'totp_verified', firstFactor: false }, softTotp, 'done'], // another device: no new codes
  ['totp_scan', { type: 'skip' }, softTotp, null], // skipping happens on the choice page only
  ['webauthn_register', { type: 'webauthn_registered', firstFactor: true, totpStillNeeded: true }, totpAndWebauthn, 'totp_scan'],
  ['webauthn_register', { type: 'webauthn_registered', firstFactor: true, totpStillNeeded: false }, totpAndWebauthn, 'recovery_codes'],
  ['webauthn_register', { type: 'totp_verified', firstFactor: true }, totpAndWebauthn, null],
  ['recovery_codes', { type: 'codes_acknowledged' }, forcedTotp, 'done'],
  ['recovery_codes', { type: 'skip' }, softTotp, null],
  // The recovered page (a sign-in with a recovery code): a new device is another one, continuing is always allowed.
  ['recovered', { type: 'choose', method: 'totp' }, softTotp, 'totp_scan'],
  ['recovered', { type: 'choose', method: 'webauthn' }, softTotp, null], // WebAuthn off: no key offered
  ['recovered', { type: 'choose', method: 'webauthn' }, totpAndWebauthn, 'webauthn_register'],
  ['recovered', { type: 'choose', method: 'duo' }, { forced: false, methods: ['totp', 'duo'] }, null], // R-E5
  ['recovered', { type: 'skip' }, forcedTotp, 'done'],
  ['recovered', { type: 'codes_regenerated' }, softTotp, 'recovery_codes'],
  ['recovered', { type: 'totp_verified', firstFactor: false }, softTotp, null],
  ['choose_method', { type: 'codes_regenerated' }, softTotp, null],
  ['done', { type: 'codes_acknowledged' }, forcedTotp, null],
  ['done', { type: 'choose', method: 'totp' }, forcedTotp, null],
];

describe('the Set Up MFA state machine', () => {
  it.each(table)('%s + %j → %s', (state, event, context, expected) => {
    expect(nextState(state, event, context)).toBe(expected);
  });

  it('a forced first TOTP enrollment walks choose → scan → codes → done', () => {
    let state: SetupState = 'choose_method';
    const events: SetupEvent[] = [
      { type: 'choose', method: 'totp' },
      { type: 'totp_rejected' },
      { type: 'totp_verified', firstFactor: true },
      { type: 'codes_acknowledged' },
    ];
    const visited: SetupState[] = [state];
    for (const event of events) {
      state = nextState(state, event, forcedTotp)!;
      visited.push(state);
    }
    expect(visited).toEqual(['choose_method', 'totp_scan', 'totp_scan', 'recovery_codes', 'done']);
  });

  it.each([
    ['choose_method', '/mfa/setup?returnTo=%2Fapps%2Fdemo%3Fx%3D1'],
    ['recovered', '/mfa/recovered?returnTo=%2Fapps%2Fdemo%3Fx%3D1'],
    ['totp_scan', '/mfa/setup/totp?returnTo=%2Fapps%2Fdemo%3Fx%3D1'],
    ['webauthn_register', '/mfa/setup/webauthn?returnTo=%2Fapps%2Fdemo%3Fx%3D1'],
    ['recovery_codes', '/mfa/recovery-codes?returnTo=%2Fapps%2Fdemo%3Fx%3D1'],
    ['done', '/apps/demo?x=1'], // R-E7: continue where they were going
  ] as const)('%s lives at %s', (state, path) => {
    expect(pathOf(state, '/apps/demo?x=1')).toBe(path);
  });
});

describe('who may open TOTP setup', () => {
  const now = Date.UTC(2026, 10, 2, 9, 0);
  const enrollForced: Decision = { kind: 'enroll', forced: true, methods: ['totp'], defaultMethod: 'totp', deadline: null, rule: 'R-D4' };
  const enrollSoft: Decision = { kind: 'enroll', forced: false, methods: ['totp'], defaultMethod: 'totp', deadline: now + 1, rule: 'R-D5' };
  const enrollWebauthnOnly: Decision = { kind: 'enroll', forced: true, methods: ['webauthn'], defaultMethod: 'webauthn', deadline: null, rule: 'R-D4' };
  const allow: Decision = { kind: 'allow', rule: 'R-D8' };
  const challenge: Decision = { kind: 'challenge', methods: ['totp'], rule: 'R-D3' };
  const locked: Decision = { kind: 'locked', reason: 'enrollment_expired', expiredAt: now - 1, rule: 'R-D6' };

  it.each([
    ['Frank, forced, no factor', enrollForced, false, null, { mode: 'enroll', forced: true }],
    ['Carol, in her period, no factor', enrollSoft, false, null, { mode: 'enroll', forced: false }],
    ['Judy, WebAuthn is all there is to set up', enrollWebauthnOnly, false, null, { mode: 'elsewhere' }],
    ['Carol after "Skip for now", from the portal', allow, false, null, { mode: 'add' }],
    ['Ada, enrolled, verified two minutes ago', allow, true, now - 2 * 60_000, { mode: 'add' }],
    ['Ada, enrolled, verified an hour ago', allow, true, now - 60 * 60_000, { mode: 'verify_first' }],
    ['Ada, enrolled, never verified this session', allow, true, null, { mode: 'verify_first' }],
    ['Mallory with only the password, challenge pending', challenge, true, null, { mode: 'elsewhere' }],
    ['Grace, locked out', locked, false, null, { mode: 'elsewhere' }],
  ] as const)('%s → %j', (_who, decision, hasFactors, secondFactorAt, expected) => {
    expect(totpSetupAccess({ decision, hasFactors, secondFactorAt, now })).toEqual(expected);
  });

  it('a second factor is fresh for five minutes, to the millisecond', () => {
    expect(isFreshSecondFactor(now - freshSecondFactorMs, now)).toBe(true);
    expect(isFreshSecondFactor(now - freshSecondFactorMs - 1, now)).toBe(false);
    expect(isFreshSecondFactor(null, now)).toBe(false);
    expect(isFreshSecondFactor(now + 60_000, now)).toBe(false); // from the future: a clock problem, not fresh
  });
});

describe('Set Up steps as paths', () => {
  const enroll = (methods: Method[], forced = false): Extract<Decision, { kind: 'enroll' }> => ({
    kind: 'enroll',
    forced,
    methods,
    defaultMethod: methods[0]!,
    deadline: null,
    rule: forced ? 'R-D4' : 'R-D5',
  });

  it.each<[string, Method | null, Method[], string]>([
    ['Tom picks TOTP', 'totp', ['totp', 'webauthn'], '/mfa/setup/totp?returnTo=%2Fportal'],
    ['Kim picks a security key', 'webauthn', ['totp', 'webauthn'], '/mfa/setup/webauthn?returnTo=%2Fportal'],
    ['Wes picks a key where only TOTP is offered: the default instead', 'webauthn', ['totp'], '/mfa/setup/totp?returnTo=%2Fportal'],
    ['Dan sends no choice: the default', null, ['webauthn'], '/mfa/setup/webauthn?returnTo=%2Fportal'],
  ])('%s → %s', (_who, chosen, methods, path) => {
    expect(afterMethodChosen(chosen, enroll(methods), '/portal')).toBe(path);
  });

  it.each<[string, 'enroll' | 'add', boolean, boolean, string]>([
    ['Set Up, first factor, TOTP still needed: codes, then TOTP', 'enroll', true, true, '/mfa/recovery-codes?returnTo=%2Fmfa%2Fsetup%2Ftotp%3FreturnTo%3D%252Fportal'],
    ['Set Up, first factor, nothing else needed: codes', 'enroll', true, false, '/mfa/recovery-codes?returnTo=%2Fportal'],
    ['Set Up, another factor, TOTP still needed: TOTP', 'enroll', false, true, '/mfa/setup/totp?returnTo=%2Fportal'],
    ['Set Up, another factor, done: back where they were going', 'enroll', false, false, '/portal'],
    ['Portal, first factor: codes', 'add', true, true, '/mfa/recovery-codes?returnTo=%2Fportal'],
    ['Portal, another key: back', 'add', false, true, '/portal'],
  ])('after a key is stored: %s', (_case, mode, firstFactor, totpStillNeeded, path) => {
    expect(afterWebauthnRegistered(mode, { firstFactor, totpStillNeeded }, { forced: true, methods: ['totp', 'webauthn'] }, '/portal')).toBe(path);
  });

  it('query extras go on the step page, and the TOTP start route has its own path', () => {
    expect(pathOf('totp_scan', '/admin', { forced: '1' })).toBe('/mfa/setup/totp?returnTo=%2Fadmin&forced=1');
    expect(totpStartPath('/portal', { replace: 'f1' })).toBe('/mfa/setup/totp/start?returnTo=%2Fportal&replace=f1');
  });
});

describe('where the recovered page’s offers lead', () => {
  it('Rita (TOTP and WebAuthn on) may set up either, get new codes and come back, or go on', () => {
    expect(recoveredChoices({ forced: false, methods: ['totp', 'webauthn'] }, '/apps/demo?x=1')).toEqual({
      totp: '/mfa/setup/totp?returnTo=%2Fapps%2Fdemo%3Fx%3D1',
      webauthn: '/mfa/setup/webauthn?returnTo=%2Fapps%2Fdemo%3Fx%3D1',
      newCodes: `/mfa/recovery-codes?returnTo=${encodeURIComponent('/mfa/recovered?returnTo=%2Fapps%2Fdemo%3Fx%3D1')}`,
      continueTo: '/apps/demo?x=1',
    });
  });

  it('with WebAuthn off only an authenticator app is offered', () => {
    expect(recoveredChoices({ forced: false, methods: ['totp'] }, '/portal')).toMatchObject({ totp: '/mfa/setup/totp?returnTo=%2Fportal', webauthn: null });
  });
});

describe('withNotice: the portal says what a flow just did, nobody else is handed a parameter', () => {
  it.each([
    ['Nina finishes Set Up and lands in the portal', '/portal', 'mfa_set_up', undefined, '/portal?notice=mfa_set_up'],
    ['Sonia adds a phone from her Security page', '/portal/security', 'added', 'f-1', '/portal/security?notice=added&factor=f-1'],
    ['an earlier notice is replaced, not repeated', '/portal/security?notice=renamed&factor=old', 'codes_saved', undefined, '/portal/security?notice=codes_saved'],
    ['another app keeps its own URL', '/apps/billing?x=1', 'mfa_set_up', undefined, '/apps/billing?x=1'],
    ['a further setup step keeps its own URL', '/mfa/setup/totp?returnTo=%2Fportal', 'mfa_set_up', undefined, '/mfa/setup/totp?returnTo=%2Fportal'],
    ['an absolute return URL (another host) is left alone', 'https://billing.example/portal', 'mfa_set_up', undefined, 'https://billing.example/portal'],
  ] as const)('%s', (_name, path, notice, factor, expected) => {
    expect(withNotice(path, notice, factor)).toBe(expected);
  });
});
