import { describe, expect, it } from 'vitest';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { decide, setupMethods, validateSettings, webauthnOnlyError, type Decision, type MfaSettings } from '@/lib/policy';
import { freshSecondFactorMs } from '@/lib/factors/setup-flow';
import {
  nonceHash,
  openPendingDuo,
  openPendingWebauthn,
  sameBinding,
  sealPending,
  sessionBinding,
  webauthnChallengeTtlMs,
  type PendingWebauthn,
} from '@/lib/factors/ceremony';
import { failureDetail, relyingPartyFor, totpStillNeeded, userHandleOf, webauthnSetupAccess } from '@/lib/factors/webauthn';
import { flags, SoftAuthenticator } from '../../support/soft-authenticator';

// Sealing needs an app secret; never let a test write one into ./data.
process.env.PORTCULLIS_SECRET ??= 'unit-test-secret-0123456789abcdef0123456789';

const NOW = Date.UTC(2026, 10, 2, 9, 0, 0);
const settings = {
  totpOnly: { totp: true, webauthn: false, duo: false },
  totpAndWebauthn: { totp: true, webauthn: true, duo: false },
  webauthnAndDuo: { totp: false, webauthn: true, duo: true },
  all: { totp: true, webauthn: true, duo: true },
  duoOnly: { totp: false, webauthn: false, duo: true },
  webauthnOnly: { totp: false, webauthn: true, duo: false },
} satisfies Record<string, MfaSettings>;

describe('the relying party comes from PORTCULLIS_ORIGIN', () => {
  it.each([
    ['https://mfa.example.com', 'mfa.example.com', 'https://mfa.example.com'],
    ['https://mfa.example.com:8443/', 'mfa.example.com', 'https://mfa.example.com:8443'],
    ['http://localhost:3000', 'localhost', 'http://localhost:3000'],
  ])('%s → RP ID %s, origin %s', (origin, id, expected) => {
    expect(relyingPartyFor(origin)).toEqual({ id, origin: expected, name: 'Portcullis' });
  });
});

describe('method rules (R-A2, R-E3, R-E4, R-E5) as lib/policy states them', () => {
  it('R-E3: TOTP and WebAuthn → the user chooses, TOTP first', () => {
    expect(setupMethods(settings.totpAndWebauthn)).toEqual({ methods: ['totp', 'webauthn'], defaultMethod: 'totp' });
  });
  it('R-E4: Duo and WebAuthn → WebAuthn must be set up', () => {
    expect(setupMethods(settings.webauthnAndDuo)).toEqual({ methods: ['webauthn'], defaultMethod: 'webauthn' });
  });
  it('R-E5: Duo is never a setup step', () => {
    expect(setupMethods(settings.duoOnly).methods).toEqual([]);
    expect(setupMethods(settings.all).methods).not.toContain('duo');
  });
  it('R-A2: WebAuthn alone cannot be saved', () => {
    expect(validateSettings(settings.webauthnOnly)).toBe(webauthnOnlyError);
    expect(validateSettings(settings.webauthnAndDuo)).toBeNull();
  });
  it('R-E5: Duo is offered at the verify step to a required user', () => {
    const decision = decide({
      now: NOW,
      resource: 'portal',
      session: { amr: [{ method: 'pwd', at: NOW }], mfaSkipped: false },
      user: { id: 'u', state: 'active', groupIds: [] },
      requirement: { required: true, enrollmentDays: 7, periodStartsAt: NOW - 1, periodEndsAt: NOW + 1000 },
      enrolledMethods: ['webauthn'],
      settings: settings.webauthnAndDuo,
      request: { ip: '198.51.100.7', os: 'linux', browser: 'chrome' },
      policies: [],
    });
    expect(decision).toMatchObject({ kind: 'challenge', methods: ['webauthn', 'duo'] });
  });
});

describe('R-E3: someone who set up WebAuthn first is brought back to TOTP', () => {
  it.each([
    ['TOTP and WebAuthn, only a key', settings.totpAndWebauthn, ['webauthn'], true],
    ['TOTP and WebAuthn, key and app', settings.totpAndWebauthn, ['webauthn', 'totp'], false],
    ['all three, only a key', settings.all, ['webauthn'], true],
    ['Duo and WebAuthn (R-E4): no TOTP to set up', settings.webauthnAndDuo, ['webauthn'], false],
    ['TOTP only', settings.totpOnly, [], false],
  ] as const)('%s → %s', (_what, s, types, expected) => {
    expect(totpStillNeeded(s, types)).toBe(expected);
  });
});

describe('who may register a key', () => {
  const enroll = (methods: ('totp' | 'webauthn')[], forced = true): Decision => ({
    kind: 'enroll',
    forced,
    methods,
    defaultMethod: methods[0]!,
    deadline: null,
    rule: 'R-D4',
  });
  const allow: Decision = { kind: 'allow', rule: 'R-D8' };
  const challenge: Decision = { kind: 'challenge', methods: ['totp'], rule: 'R-D3' };
  const base = { webauthnEnabled: true, hasFactors: false, secondFactorAt: null, now: NOW };

  it.each([
    ['Set Up offering WebAuthn, forced (R-E4)', { ...base, decision: enroll(['webauthn']) }, { mode: 'enroll', forced: true }],
    ['Set Up offering both, soft (R-E3)', { ...base, decision: enroll(['totp', 'webauthn'], false) }, { mode: 'enroll', forced: false }],
    ['Set Up offering TOTP only (R-E2)', { ...base, decision: enroll(['totp']) }, { mode: 'elsewhere' }],
    ['WebAuthn switched off', { ...base, webauthnEnabled: false, decision: allow }, { mode: 'elsewhere' }],
    ['a portal user without factors adds one', { ...base, decision: allow }, { mode: 'add' }],
    ['a portal user with factors, stale second factor', { ...base, hasFactors: true, secondFactorAt: NOW - freshSecondFactorMs - 1, decision: allow }, { mode: 'verify_first' }],
    ['a portal user with factors, fresh second factor', { ...base, hasFactors: true, secondFactorAt: NOW - 1000, decision: allow }, { mode: 'add' }],
    ['a user who still owes the challenge', { ...base, hasFactors: true, decision: challenge }, { mode: 'elsewhere' }],
    ['Set Up, but factors and no fresh check', { ...base, hasFactors: true, decision: enroll(['webauthn']) }, { mode: 'verify_first' }],
  ] as const)('%s', (_what, input, expected) => {
    expect(webauthnSetupAccess(input)).toEqual(expected);
  });
});

describe('pending ceremonies in sealed cookies', () => {
  const pending: PendingWebauthn = {
    kind: 'webauthn',
    ceremony: 'authentication',
    challenge: 'Y2hhbGxlbmdl',
    binding: sessionBinding('session-1'),
    userId: 'user-1',
    expiresAt: NOW + webauthnChallengeTtlMs,
  };

  it('round-trips, and the browser sees only ciphertext', async () => {
    const sealed = await sealPending(pending);
    expect(sealed).not.toContain(pending.challenge);
    expect(sealed).not.toContain('user-1');
    expect(await openPendingWebauthn(sealed)).toEqual(pending);
  });

  it('refuses tampered, foreign-kind, oversized and empty values', async () => {
    const sealed = await sealPending(pending);
    const flipped = sealed.slice(0, 40) + (sealed[40] === 'A' ? 'B' : 'A') + sealed.slice(41);
    expect(await openPendingWebauthn(flipped)).toBeNull();
    expect(await openPendingDuo(sealed)).toBeNull();
    expect(await openPendingWebauthn('x'.repeat(5000))).toBeNull();
    expect(await openPendingWebauthn(undefined)).toBeNull();
    expect(await openPendingWebauthn('')).toBeNull();
  });

  it('binds to one session id, and keeps nonce hashes apart by purpose', () => {
    expect(sameBinding(sessionBinding('session-1'), 'session-1')).toBe(true);
    expect(sameBinding(sessionBinding('session-1'), 'session-2')).toBe(false);
    expect(sameBinding('short', 'session-1')).toBe(false);
    expect(nonceHash('webauthn-registration', 'x')).not.toBe(nonceHash('webauthn-authentication', 'x'));
    expect(nonceHash('duo-state', 'x')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('user handles are the user id, the same for every credential', () => {
    expect(userHandleOf('3f0c…')).toBe(userHandleOf('3f0c…'));
    expect(Buffer.from(userHandleOf('alice-id'), 'base64url').toString()).toBe('alice-id');
  });
});

describe('the software authenticator speaks WebAuthn as @simplewebauthn/server reads it', () => {
  const rp = relyingPartyFor('https://mfa.example.com');
  const challenge = Buffer.from('a challenge of thirty-two bytes!').toString('base64url');

  it('makes a valid “none” attestation and assertion, and each broken part gives its own reason', async () => {
    const key = new SoftAuthenticator({ rpId: rp.id, origin: rp.origin });
    const registration = await verifyRegistrationResponse({
      response: key.register(challenge),
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
    });
    expect(registration.verified).toBe(true);
    const credential = { ...registration.registrationInfo!.credential };
    const check = (o = {}) =>
      verifyAuthenticationResponse({
        response: key.assert(challenge, o),
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        credential,
        requireUserVerification: false,
      }).then(
        (v) => (v.verified ? 'ok' : 'bad_signature'),
        (err: unknown) => failureDetail(err),
      );
    expect(await check()).toBe('ok');
    expect(await check({ origin: 'https://evil.example' })).toBe('wrong_origin');
    expect(await check({ rpId: 'evil.example' })).toBe('wrong_rp_id');
    expect(await check({ flags: flags.uv })).toBe('user_not_present');
    expect(await check({ type: 'webauthn.create' })).toBe('wrong_type');
    credential.counter = 100;
    expect(await check({ counter: 50 })).toBe('counter_regression');
  });
});
