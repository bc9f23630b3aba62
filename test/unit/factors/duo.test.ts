import { describe, expect, it } from 'vitest';
import { DuoException, constants } from '@duosecurity/duo_universal';
import { createKeyring, openSecret, SecretBoxError } from '@/lib/crypto/secret-box';
import { duoErrorDetail, duoSecretContext, officialDuoClient, sealDuoClientSecret } from '@/lib/factors/duo';
import { openPendingDuo, openPendingWebauthn, sealPending, sessionBinding, type PendingDuo } from '@/lib/factors/ceremony';
import { JwtError, signHs512, verifyHs512 } from '../../fakes/duo/jwt';

process.env.PORTCULLIS_SECRET ??= 'unit-test-secret-0123456789abcdef0123456789';

const config = {
  clientId: 'DIWJ8X6AEYOR5OMC6TQ1',
  clientSecret: 'Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdo',
  apiHost: 'api-1234abcd.duosecurity.com',
  redirectUrl: 'https://mfa.example.com/mfa/duo/callback',
};

describe('the Duo client secret at rest', () => {
  const ring = createKeyring(['a'.repeat(32)]);

  it('is sealed with its own context and opens only with it', () => {
    const sealed = sealDuoClientSecret(config.clientSecret, ring);
    expect(sealed).not.toContain(config.clientSecret);
    expect(openSecret(sealed, duoSecretContext, ring)).toBe(config.clientSecret);
    expect(() => openSecret(sealed, 'totp:someone', ring)).toThrow(SecretBoxError);
    expect(() => openSecret(sealed, duoSecretContext, createKeyring(['b'.repeat(32)]))).toThrow(SecretBoxError);
  });
});

describe('the official client’s authorization request', () => {
  it('is an HS512 JWT with the client secret, carrying the username and state we pass, and Duo’s audience', async () => {
    const client = officialDuoClient(config);
    const state = 'S'.repeat(43);
    const url = new URL(await client.createAuthUrl('alice', state));
    expect(url.origin + url.pathname).toBe('https://api-1234abcd.duosecurity.com/oauth/v1/authorize');
    expect(url.searchParams.get('client_id')).toBe(config.clientId);
    const claims = verifyHs512(url.searchParams.get('request'), config.clientSecret, { audience: 'https://api-1234abcd.duosecurity.com' });
    expect(claims).toMatchObject({ duo_uname: 'alice', state, client_id: config.clientId, redirect_uri: config.redirectUrl });
    expect(() => verifyHs512(url.searchParams.get('request'), 'x'.repeat(40), { audience: 'https://api-1234abcd.duosecurity.com' })).toThrow(
      JwtError,
    );
  });

  it('refuses configurations Duo would refuse', () => {
    expect(() => officialDuoClient({ ...config, clientId: 'short' })).toThrow(DuoException);
    expect(() => officialDuoClient({ ...config, clientSecret: 'short' })).toThrow(DuoException);
  });
});

describe('the fake’s JWT checks', () => {
  const secret = 'k'.repeat(40);
  const audience = 'https://127.0.0.1:1/oauth/v1/token';
  const now = Math.floor(Date.now() / 1000);

  it('accept a good token and refuse forged, expired, mis-addressed and non-HS512 ones', () => {
    const good = signHs512({ aud: audience, exp: now + 300 }, secret);
    expect(verifyHs512(good, secret, { audience })).toMatchObject({ aud: audience });
    expect(() => verifyHs512(good, 'j'.repeat(40), { audience })).toThrow('bad signature');
    expect(() => verifyHs512(signHs512({ aud: audience, exp: now - 120 }, secret), secret, { audience })).toThrow('expired');
    expect(() => verifyHs512(signHs512({ aud: 'https://elsewhere', exp: now + 300 }, secret), secret, { audience })).toThrow('audience');
    const [, body, sig] = good.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${body}.${sig}`;
    expect(() => verifyHs512(none, secret, { audience })).toThrow('alg');
    expect(() => verifyHs512(undefined, secret, { audience })).toThrow(JwtError);
  });
});

describe('failure reasons for the audit trail', () => {
  it.each([
    [new DuoException('x', Object.assign(new Error('x'), { response: { status: 503, data: { stat: 'FAIL' } } })), 'http_503'],
    [new DuoException('x', Object.assign(new Error('x'), { response: { status: 400, data: { error: 'invalid_grant' } } })), 'http_400:invalid_grant'],
    [new DuoException('x', Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'econnrefused'],
    [new DuoException('x', Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })), 'self_signed_cert_in_chain'],
    [new DuoException(constants.JWT_DECODE_ERROR), 'bad_token'],
    [new DuoException(constants.MALFORMED_RESPONSE), 'malformed_response'],
    [new DuoException(constants.INVALID_CLIENT_ID_ERROR), 'bad_configuration'],
    [new Error('boom'), 'error'],
  ])('%s → %s', (err, detail) => {
    expect(duoErrorDetail(err)).toBe(detail);
  });

  it('never include the error text (it may carry values from Duo)', () => {
    expect(duoErrorDetail(new DuoException('secret-looking text'))).toBe('duo_error');
  });
});

describe('the pending Duo state', () => {
  it('round-trips sealed, and is not a WebAuthn ceremony', async () => {
    const pending: PendingDuo = {
      kind: 'duo',
      state: 'S'.repeat(43),
      binding: sessionBinding('s'),
      userId: 'u',
      returnTo: '/apps/demo',
      fresh: true,
      remember: true, // issue 18 part 3: the verify page's "don't ask again" tick, carried to the callback
      expiresAt: Date.now() + 60_000,
    };
    const sealed = await sealPending(pending);
    expect(sealed).not.toContain(pending.state);
    expect(await openPendingDuo(sealed)).toEqual(pending);
    expect(await openPendingWebauthn(sealed)).toBeNull();
  });
});
