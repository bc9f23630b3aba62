import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { getSignInCandidate } from '../../db/queries/throttle';
import { writeAudit } from '../../db/queries/audit';
import type { Clock } from '../clock';
import { maxPasswordLength, verifyAgainstDummy, verifyTypedPassword } from './password';
import { accountKey, accountThrottle, addressKey, countAddressFailure, countFailure, resetThrottle, waitUntil } from './throttle';
import { createSession } from './sessions';
import { countSignIn, countThrottleBlock } from '../metrics/record';

export const credentialsSchema = z.object({
  username: z.string().trim().min(1).max(128),
  password: z.string().min(1).max(maxPasswordLength),
});

export type SignInResult =
  | { ok: true; token: string; userId: string }
  | { ok: false; reason: 'invalid' | 'throttled' | 'not_allowed'; retryAfterMs?: number };

export const signInMessages = {
  invalid: 'Invalid username or password.',
  throttled: 'Too many sign-in attempts. Wait a moment and try again.',
  not_allowed: 'This account cannot sign in. Contact your administrator.',
} as const;

/**
 * Password sign-in (attemptSignIn), its outcome counted for /metrics (lib/metrics):
 * ok, invalid, throttled, not_allowed, or error when it threw.
 */
export async function signInWithPassword(
  db: Kysely<Database>,
  input: unknown,
  client: { ip: string; userAgent: string | null },
  clock: Clock,
): Promise<SignInResult> {
  let result: SignInResult;
  try {
    result = await attemptSignIn(db, input, client, clock);
  } catch (err) {
    countSignIn('error');
    throw err;
  }
  countSignIn(result.ok ? 'ok' : result.reason);
  return result;
}

/**
 * Password sign-in as a flat guard sequence: parse → throttle → look up → verify →
 * state → session. Unknown user and wrong password take the same path and message.
 *
 * SQL on the success path: one read (both throttle rows and the user, before the verify),
 * then one transaction with the session row, the audit entry and, only when the account had
 * a throttle row, its reset. Failures are counted by atomic upserts as before.
 */
async function attemptSignIn(
  db: Kysely<Database>,
  input: unknown,
  client: { ip: string; userAgent: string | null },
  clock: Clock,
): Promise<SignInResult> {
  const parsed = credentialsSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: 'invalid' };
  const { username, password } = parsed.data;
  const userKey = accountKey(username.toLowerCase());
  const ipKey = addressKey(client.ip);

  const now = clock.now();
  const candidate = await getSignInCandidate(db, username.toLowerCase(), userKey, ipKey);
  const accountWait = waitUntil(candidate.accountBlockedUntil, now);
  const wait = Math.max(accountWait, waitUntil(candidate.addressBlockedUntil, now));
  if (wait > 0) {
    countThrottleBlock(accountWait > 0 ? 'sign_in_account' : 'sign_in_address');
    return { ok: false, reason: 'throttled', retryAfterMs: wait };
  }

  const user = candidate.user;
  const passwordOk = user?.password_hash
    ? await verifyTypedPassword(user.password_hash, password)
    : await verifyAgainstDummy(password);

  if (!user || !passwordOk) {
    const at = clock.now();
    await countFailure(db, userKey, accountThrottle, at);
    await countAddressFailure(db, client.ip, username.toLowerCase(), at);
    await writeAudit(db, {
      at,
      actorId: user?.id ?? null,
      actorLabel: username.slice(0, 128),
      action: 'auth.sign_in_failed',
      targetType: 'user',
      targetId: user?.id ?? null,
      clientIp: client.ip,
    });
    return { ok: false, reason: 'invalid' };
  }

  // R-D7: staged (pre-enrollment) and suspended users do not sign in.
  if (user.state !== 'active') {
    await writeAudit(db, {
      at: clock.now(),
      actorId: user.id,
      actorLabel: user.username,
      action: 'auth.sign_in_refused',
      targetType: 'user',
      targetId: user.id,
      details: { state: user.state },
      clientIp: client.ip,
    });
    return { ok: false, reason: 'not_allowed' };
  }

  const hadAccountThrottle = candidate.accountBlockedUntil !== null;
  const token = await db.transaction().execute(async (trx) => {
    const created = await createSession(trx, user.id, { ip: client.ip, userAgent: client.userAgent }, clock);
    // The account's row, if the read before the verify saw one, is cleared as it always was;
    // with no row then, there is nothing to clear (a concurrent failure's new row stays).
    if (hadAccountThrottle) await resetThrottle(trx, userKey);
    await writeAudit(trx, {
      at: clock.now(),
      actorId: user.id,
      actorLabel: user.username,
      action: 'auth.signed_in',
      targetType: 'user',
      targetId: user.id,
      details: { method: 'pwd' },
      clientIp: client.ip,
    });
    return created;
  });
  return { ok: true, token, userId: user.id };
}
