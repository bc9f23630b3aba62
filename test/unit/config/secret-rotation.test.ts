import { afterAll, describe, expect, it, vi } from 'vitest';
import { sealData } from 'iron-session';
import { encode } from 'next-auth/jwt';
import { manualClock } from '@/lib/clock';

/*
 * Secret rotation, as the portal's own modules see it: PORTCULLIS_SECRET lists secrets newest
 * first; the newest seals and signs, every listed one opens and verifies. Each "portal" below
 * is the app's modules loaded afresh under one PORTCULLIS_SECRET, as a restarted instance
 * loads them (the secrets are read once per process).
 *
 * The operator rotates from secret A to secret B:
 * - "A": before; "A,B": B listed but not used yet (every instance of a fleet learns to open B
 *   before any seals with it); "B,A": B seals, A still opens; "B": A dropped, which signs
 *   everyone out whose cookie is still A's.
 * Ada is signed in, Tom is setting up an authenticator app, Dora is in a Duo prompt, Ivy has an
 * invitation link waiting in the outbox.
 */
const A = 'secret-A-of-the-portal-0123456789abcdef';
const B = 'secret-B-of-the-portal-0123456789abcdef';
const saved = process.env.PORTCULLIS_SECRET;
afterAll(() => {
  if (saved === undefined) delete process.env.PORTCULLIS_SECRET;
  else process.env.PORTCULLIS_SECRET = saved;
});

async function portalWith(secrets: string) {
  vi.resetModules();
  process.env.PORTCULLIS_SECRET = secrets;
  return {
    cookie: await import('@/lib/auth/cookie'),
    setup: await import('@/lib/auth/pending-setup'),
    ceremony: await import('@/lib/factors/ceremony'),
    box: await import('@/lib/crypto/secret-box'),
    tokens: await import('@/lib/auth/account-tokens'),
  };
}

const adaSession = 'a'.repeat(43);
const clock = manualClock(Date.now());

describe('the session cookie across a rotation', () => {
  it('Ada, signed in under A, stays signed in under "A,B" and "B,A"; under "B" alone her cookie opens no more', async () => {
    const cookie = await (await portalWith(A)).cookie.encodeSessionCookie(adaSession);
    expect(await (await portalWith(`${A},${B}`)).cookie.decodeSessionCookie(cookie)).toBe(adaSession);
    expect(await (await portalWith(`${B},${A}`)).cookie.decodeSessionCookie(cookie)).toBe(adaSession);
    expect(await (await portalWith(B)).cookie.decodeSessionCookie(cookie)).toBeNull();
  });

  it('"B,A" makes new cookies under B: next-auth reads them with B; "B" and "A,B" open them, "A" alone does not', async () => {
    const cookie = await (await portalWith(`${B},${A}`)).cookie.encodeSessionCookie(adaSession);
    expect(await nextAuthDecode(cookie, B)).toMatchObject({ sid: adaSession });
    expect(await nextAuthDecode(cookie, A)).toBeNull();
    expect(await (await portalWith(B)).cookie.decodeSessionCookie(cookie)).toBe(adaSession);
    expect(await (await portalWith(`${A},${B}`)).cookie.decodeSessionCookie(cookie)).toBe(adaSession);
    expect(await (await portalWith(A)).cookie.decodeSessionCookie(cookie)).toBeNull();
  });

  it('"A,B" still makes cookies under A: an instance not yet given B reads them', async () => {
    const cookie = await (await portalWith(`${A},${B}`)).cookie.encodeSessionCookie(adaSession);
    expect(await (await portalWith(A)).cookie.decodeSessionCookie(cookie)).toBe(adaSession);
  });

  it('an old key does not revive an expired or tampered cookie, nor one under a secret never listed', async () => {
    const rotated = (await portalWith(`${B},${A}`)).cookie;
    const expired = await encode({ token: { sid: adaSession }, secret: A, maxAge: -60 });
    expect(await rotated.decodeSessionCookie(expired)).toBeNull();
    const good = await encode({ token: { sid: adaSession }, secret: A, maxAge: 60 });
    const parts = good.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(await rotated.decodeSessionCookie(parts.join('.'))).toBeNull();
    const foreign = await encode({ token: { sid: adaSession }, secret: 'some-other-deployment-0123456789abcdef', maxAge: 60 });
    expect(await rotated.decodeSessionCookie(foreign)).toBeNull();
    expect(await rotated.decodeSessionCookie(good)).toBe(adaSession);
  });
});

async function nextAuthDecode(cookie: string, secret: string) {
  const { decode } = await import('next-auth/jwt');
  try {
    return await decode({ token: cookie, secret });
  } catch {
    return null;
  }
}

describe('iron-session cookies across a rotation', () => {
  it('Tom’s pending authenticator setup, sealed under A, opens under "B,A"; one sealed under "B,A" opens under "B", not under "A"', async () => {
    const before = await portalWith(A);
    const pending = before.setup.newPendingTotpSetup('tom', 'JBSWY3DPEHPK3PXP', null, clock);
    const sealedByA = await before.setup.sealPendingTotp(pending);

    const rotated = await portalWith(`${B},${A}`);
    expect(await rotated.setup.openPendingTotp(sealedByA, 'tom', clock)).toEqual(pending);
    const sealedByB = await rotated.setup.sealPendingTotp(pending);
    const codes = await rotated.setup.sealRecoveryCodes('tom', ['abcd-efgh'], 'totp', clock);

    const after = await portalWith(B);
    expect(await after.setup.openPendingTotp(sealedByB, 'tom', clock)).toEqual(pending);
    expect(await after.setup.openRecoveryCodes(codes, 'tom', clock)).toMatchObject({ codes: ['abcd-efgh'] });
    expect(await after.setup.openPendingTotp(sealedByA, 'tom', clock)).toBeNull();
    expect(await (await portalWith(A)).setup.openPendingTotp(sealedByB, 'tom', clock)).toBeNull();
  });

  it('Dora’s Duo prompt, started under A, finishes under "B,A"; "A,B" still seals under A', async () => {
    const pending = { kind: 'duo' as const, state: 's'.repeat(36), binding: 'b'.repeat(43), userId: 'dora', returnTo: '/portal', fresh: false, remember: false, expiresAt: clock.now() + 60_000 };
    const sealedByA = await (await portalWith(A)).ceremony.sealPending(pending);
    expect(await (await portalWith(`${B},${A}`)).ceremony.openPendingDuo(sealedByA)).toEqual(pending);
    const sealedWhileLearning = await (await portalWith(`${A},${B}`)).ceremony.sealPending(pending);
    expect(await (await portalWith(A)).ceremony.openPendingDuo(sealedWhileLearning)).toEqual(pending);
    expect(await (await portalWith(B)).ceremony.openPendingDuo(sealedByA)).toBeNull();
  });

  it('a cookie the previous release sealed with its one secret as a plain password still opens after the upgrade and a rotation', async () => {
    const { deriveSubkey } = (await portalWith(A)).box;
    const pending = { kind: 'totp-setup', id: 'p1', userId: 'tom', secret: 'JBSWY3DPEHPK3PXP', replaces: null, expiresAt: clock.now() + 60_000 };
    const legacy = await sealData(pending, { password: deriveSubkey(A, 'iron-session pending setup v1').toString('hex'), ttl: 600 });
    expect(await (await portalWith(A)).setup.openPendingTotp(legacy, 'tom', clock)).toMatchObject({ id: 'p1' });
    expect(await (await portalWith(`${B},${A}`)).setup.openPendingTotp(legacy, 'tom', clock)).toMatchObject({ id: 'p1' });
  });
});

describe('stored secrets and links across a rotation', () => {
  it('the default keyring of "B,A" seals under B and opens what A sealed', async () => {
    const before = (await portalWith(A)).box;
    const sealedByA = before.sealSecret('JBSWY3DPEHPK3PXP', 'totp:tom');
    const rotated = (await portalWith(`${B},${A}`)).box;
    expect(rotated.openSecret(sealedByA, 'totp:tom')).toBe('JBSWY3DPEHPK3PXP');
    const fresh = rotated.sealSecret('JBSWY3DPEHPK3PXP', 'totp:tom');
    expect(rotated.keyIdOf(fresh)).toBe(rotated.createKeyring([B]).current.id);
    expect(rotated.defaultKeyring().current.id).toBe(rotated.keyIdOf(fresh));
    const after = (await portalWith(B)).box;
    expect(() => after.openSecret(sealedByA, 'totp:tom')).toThrow(/key this server does not have/);
  });

  it('Ivy’s invitation issued under A is mailed under "B,A" with the token A made, which its stored hash redeems', async () => {
    const { tokens } = await portalWith(`${B},${A}`);
    const row = { id: 'row-ivy', token_hash: tokens.accountTokenHash(tokens.accountTokenOf('row-ivy', A)) };
    expect(tokens.storedAccountToken(row)).toBe(tokens.accountTokenOf('row-ivy', A));
    const issuedUnderB = { id: 'row-rex', token_hash: tokens.accountTokenHash(tokens.accountTokenOf('row-rex')) };
    expect(tokens.accountTokenOf('row-rex')).toBe(tokens.accountTokenOf('row-rex', B));
    expect(tokens.storedAccountToken(issuedUnderB)).toBe(tokens.accountTokenOf('row-rex', B));
    expect(tokens.storedAccountToken(row, [B])).toBeNull();
  });
});

describe('the list of secrets', () => {
  it('PORTCULLIS_SECRET is read newest first, each entry trimmed; a bad list is refused naming the variable, never a value', async () => {
    const { parseSecretList } = await import('@/lib/config/secret');
    expect(parseSecretList(`${B}, ${A}`)).toEqual([B, A]);
    expect(parseSecretList(A)).toEqual([A]);
    const refusal = (raw: string) => {
      try {
        return `accepted ${parseSecretList(raw).length}`;
      } catch (err) {
        return (err as Error).message;
      }
    };
    const empty = 'PORTCULLIS_SECRET has an empty entry: secrets are separated by single commas, newest first';
    expect(refusal(`${B},,${A}`)).toBe(empty);
    expect(refusal(`${B},${A},`)).toBe(empty);
    expect(refusal(`${B},short`)).toBe('PORTCULLIS_SECRET (entry 2) must be at least 32 characters');
    expect(refusal(`${B},${B}`)).toBe('PORTCULLIS_SECRET lists the same secret twice');
    expect(refusal(['1', '2', '3', '4', '5'].map((n) => n.repeat(32)).join(','))).toBe('PORTCULLIS_SECRET lists 5 secrets; at most 4');
  });

  it('the embedded default’s data/secret is read as the variable is: a list there is a list', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-secret-'));
    try {
      fs.writeFileSync(path.join(dataDir, 'secret'), `${B},${A}\n`, { mode: 0o600 });
      vi.resetModules();
      const { appSecrets } = await import('@/lib/config/secret');
      expect(appSecrets({ ...baseEnv, dataDir })).toEqual([B, A]);
      fs.writeFileSync(path.join(dataDir, 'secret'), `${B},${B}`);
      vi.resetModules();
      const again = await import('@/lib/config/secret');
      expect(() => again.appSecrets({ ...baseEnv, dataDir })).toThrow(`${path.join(dataDir, 'secret')}: PORTCULLIS_SECRET lists the same secret twice`);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

const baseEnv = {
  databaseUrl: undefined,
  secret: undefined,
  origin: 'http://localhost:3000',
  trustedProxies: undefined,
  smtpUrl: undefined,
  resources: undefined,
  cookieDomain: undefined,
};
