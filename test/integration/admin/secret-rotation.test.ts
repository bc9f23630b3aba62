import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from '../../../db';
import { insertTotpFactor } from '../../../db/queries/factors';
import { replaceTotpSecret, sealedTotpSecretsAfter } from '../../../db/queries/sealed-secrets';
import { cliActor } from '../../../lib/admin/actor';
import { saveMfaSettings } from '../../../lib/admin/mfa-settings';
import { rotateSealedSecrets } from '../../../lib/admin/secret-rotation';
import { systemClock } from '../../../lib/clock';
import { createKeyring, keyIdOf, openSecret, sealSecret, type Keyring } from '../../../lib/crypto/secret-box';
import { duoSecretContext, sealDuoClientSecret } from '../../../lib/factors/duo';
import { totpSecretContext } from '../../../lib/factors/totp';
import { dialects, freshDatabase } from '../support/dialects';
import { cliTestTimeoutMs, runCli } from '../support/cli';
import { seed } from '../mail/support/world';

/*
 * Rotating PORTCULLIS_SECRET from A to B (README "Rotating the secret"): with "B,A" the
 * values sealed under A still open and new ones are sealed under B; `npm run cli --
 * rotate-secrets` then re-seals every stored one under B, in batches, so that A can be
 * dropped. Run as a real process against a real database, on both dialects.
 *
 * Five people have an authenticator app (Ada, Ben, Cleo, Dev, Eve) and Duo is configured:
 * six sealed values, made under A before the rotation.
 */
const A = 'the-old-secret-A-0123456789abcdef0123456789';
const B = 'the-new-secret-B-0123456789abcdef0123456789';
const ringA = createKeyring([A]);
const ringBA = createKeyring([B, A]);
const ringB = createKeyring([B]);
const people = ['ada', 'ben', 'cleo', 'dev', 'eve'];
const totpSecretOf = (username: string) => `${username.toUpperCase().padEnd(16, 'Q')}JBSWY3DP`.slice(0, 16);
const duoSecret = 'S'.repeat(20) + 'ecret0123456789ABCDE';
const duoConfig = { clientId: 'DIWJ8X6AEYOR5OMC6TQ1', clientSecret: duoSecret, apiHost: 'API-1234abcd.duosecurity.com', redirectUri: 'https://portal.example.com/mfa/duo/callback' };

describe.each(dialects)('rotating the app secret on %s', (dialect) => {
  let db: Db;
  let url: string;
  let ids: Record<string, string>;

  const rotate = (secrets: string, ...args: string[]) => runCli({ DATABASE_URL: url, PORTCULLIS_SECRET: secrets }, 'rotate-secrets', ...args);

  async function storedValues(): Promise<{ totp: Record<string, string>; duo: string }> {
    const rows = await db.kysely.selectFrom('factors').innerJoin('users', 'users.id', 'factors.user_id').select(['users.username', 'factors.secret_enc']).execute();
    const settings = await db.kysely.selectFrom('mfa_settings').select('duo_client_secret_enc').executeTakeFirstOrThrow();
    return { totp: Object.fromEntries(rows.map((r) => [r.username, r.secret_enc!])), duo: settings.duo_client_secret_enc! };
  }

  /** Every stored value opens under `ring` to what was sealed. */
  async function expectAllOpenUnder(ring: Keyring) {
    const { totp, duo } = await storedValues();
    for (const name of people) expect(openSecret(totp[name]!, totpSecretContext(ids[name]!), ring)).toBe(totpSecretOf(name));
    expect(openSecret(duo, duoSecretContext, ring)).toBe(duoSecret);
  }

  async function keyIds(): Promise<string[]> {
    const { totp, duo } = await storedValues();
    return [...Object.values(totp), duo].map((v) => keyIdOf(v)!);
  }

  async function audits() {
    const rows = await db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'secrets.resealed').orderBy('id').execute();
    return rows.map((r) => ({ actor: r.actor_label, details: JSON.parse(r.details!) as Record<string, unknown> }));
  }

  beforeEach(async () => {
    const fresh = await freshDatabase(dialect);
    url = fresh.url;
    db = createDb(url, fresh.dataDir);
    await migrateToLatest(db);
    ids = await seed(db, systemClock, people.map((username) => ({ username })));
    for (const name of people) {
      await insertTotpFactor(db.kysely, {
        id: `factor-${name}`,
        userId: ids[name]!,
        name: 'Phone',
        secretSealed: sealSecret(totpSecretOf(name), totpSecretContext(ids[name]!), ringA),
        enrolledStep: 1,
        now: systemClock.now(),
      });
    }
    await saveMfaSettings(db.kysely, { totp: true, webauthn: false, duo: true, duoConfig }, cliActor, systemClock, {
      sealSecret: (plain) => sealDuoClientSecret(plain, ringA),
    });
  });
  afterEach(async () => {
    await db.close();
  });

  it('with "B,A" everything sealed under A opens and new values seal under B; rotate-secrets re-seals all six under B, losing nothing', async () => {
    await expectAllOpenUnder(ringBA);
    expect(keyIdOf(sealSecret('new', 'totp:someone', ringBA))).toBe(ringB.current.id);
    expect(new Set(await keyIds())).toEqual(new Set([ringA.current.id]));

    const run = await rotate(`${B},${A}`, '--batch-size', '2');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('re-sealed 6 of 6 sealed secrets; 0 already current');

    expect(new Set(await keyIds())).toEqual(new Set([ringB.current.id]));
    await expectAllOpenUnder(ringB); // A can now be dropped
    expect(await audits()).toEqual([
      {
        actor: 'cli',
        details: { total: 6, resealed: 6, alreadyCurrent: 0, unreadable: 0, changedMeanwhile: 0, interrupted: false, keyId: ringB.current.id },
      },
    ]);

    const again = await rotate(`${B},${A}`);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe('re-sealed 0 of 6 sealed secrets; 6 already current');
    expect(await audits()).toHaveLength(2);
  }, cliTestTimeoutMs);

  it('a run interrupted after its first batch is finished by running it again; the totals add up', async () => {
    const stop = new AbortController();
    const first = await rotateSealedSecrets(db.kysely, { ring: ringBA, batchSize: 2, signal: stop.signal, onBatch: () => stop.abort() });
    // The Duo secret is one batch of its own: interrupted after it.
    expect(first).toMatchObject({ total: 1, resealed: 1, current: 0, interrupted: true });
    expect((await keyIds()).filter((id) => id === ringB.current.id)).toHaveLength(1);

    const stopAgain = new AbortController();
    let batches = 0;
    const second = await rotateSealedSecrets(db.kysely, { ring: ringBA, batchSize: 2, signal: stopAgain.signal, onBatch: () => ++batches === 2 && stopAgain.abort() });
    expect(second).toMatchObject({ total: 3, resealed: 2, current: 1, interrupted: true });

    const rest = await rotate(`${B},${A}`, '--batch-size', '2');
    expect(rest.code).toBe(0);
    expect(rest.stdout.trim()).toBe('re-sealed 3 of 6 sealed secrets; 3 already current');
    expect(first.resealed + second.resealed + 3).toBe(6);
    expect(new Set(await keyIds())).toEqual(new Set([ringB.current.id]));
    await expectAllOpenUnder(ringB);
  }, cliTestTimeoutMs);

  it('a value no listed secret opens is reported and left exactly as it is; the others are re-sealed, and the exit code says so', async () => {
    const foreign = sealSecret('FOREIGNSECRET234', totpSecretContext(ids.cleo!), createKeyring(['a-secret-nobody-lists-0123456789abcdef']));
    const misplaced = (await storedValues()).totp.ada!; // Ada's value copied onto Dev's row: it opens in no other context
    await db.kysely.updateTable('factors').set({ secret_enc: foreign }).where('id', '=', 'factor-cleo').execute();
    await db.kysely.updateTable('factors').set({ secret_enc: misplaced }).where('id', '=', 'factor-dev').execute();

    const run = await rotate(`${B},${A}`);
    expect(run.code).toBe(1);
    expect(run.stdout.trim()).toBe('re-sealed 4 of 6 sealed secrets; 0 already current');
    expect(run.stderr).toContain('2 could not be opened with any secret in PORTCULLIS_SECRET and were left as they are:');
    expect(run.stderr).toMatch(/the authenticator app factor-cleo of cleo: sealed under key \S+, which no secret in PORTCULLIS_SECRET has/);
    expect(run.stderr).toMatch(/the authenticator app factor-dev of dev: it does not open under key \S+ \(damaged, or copied from another row\)/);

    const after = await storedValues();
    expect(after.totp.cleo).toBe(foreign);
    expect(after.totp.dev).toBe(misplaced);
    for (const name of ['ada', 'ben', 'eve']) expect(openSecret(after.totp[name]!, totpSecretContext(ids[name]!), ringB)).toBe(totpSecretOf(name));
    expect(openSecret(after.duo, duoSecretContext, ringB)).toBe(duoSecret);
    expect((await audits())[0]!.details).toMatchObject({ total: 6, resealed: 4, unreadable: 2 });

    // Running again changes nothing more and still says so.
    const again = await rotate(`${B},${A}`);
    expect([again.code, again.stdout.trim()]).toEqual([1, 're-sealed 0 of 6 sealed secrets; 4 already current']);
  }, cliTestTimeoutMs);

  it('a value changed since it was read is not overwritten (the update is conditional)', async () => {
    const [row] = await sealedTotpSecretsAfter(db.kysely, null, 1);
    const replacement = sealSecret('NEWDEVICE2345678', totpSecretContext(row!.user_id), ringB);
    await db.kysely.updateTable('factors').set({ secret_enc: replacement }).where('id', '=', row!.id).execute();
    expect(await replaceTotpSecret(db.kysely, row!.id, row!.secret_enc, sealSecret('stale', totpSecretContext(row!.user_id), ringB))).toBe(false);
    const stored = await db.kysely.selectFrom('factors').select('secret_enc').where('id', '=', row!.id).executeTakeFirstOrThrow();
    expect(stored.secret_enc).toBe(replacement);
  });

  it('refuses a malformed secret list and a bad batch size without touching anything', async () => {
    const short = await rotate(`${B},short`);
    // The start-up check refuses it before the command runs (lib/config/start-check.ts).
    expect(short.code).toBe(78);
    expect(short.stderr.trim()).toBe('Configuration error: PORTCULLIS_SECRET (entry 2) must be at least 32 characters');
    const badSize = await rotate(`${B},${A}`, '--batch-size', '0');
    expect(badSize.code).toBe(2);
    expect(badSize.stderr.trim()).toBe('--batch-size must be a whole number from 1 to 10000');
    expect(new Set(await keyIds())).toEqual(new Set([ringA.current.id]));
    expect(await audits()).toEqual([]);
  }, cliTestTimeoutMs);
});
