import { forgetAllDevices } from '../auth/remembered-devices';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { invalidateUserCounts } from '../admin/user-counts';
import { deleteFactorRow, factorTypesOfUser, getFactorOfUser, listFactors, renameFactorRow, type FactorListItem } from '../../db/queries/factors';
import { deleteRecoveryCodes, recoveryCodeCounts } from '../../db/queries/recovery-codes';
import { groupIdsOfUser } from '../../db/queries/groups';
import { getMfaRequirement } from '../../db/queries/mfa';
import { loadPolicyRecords } from '../../db/queries/policies';
import { loadMfaSettings } from '../../db/queries/settings';
import { compilePolicies, decide, type Method } from '../policy';
import { decisionInputFrom, freshSignIn, type RequestFacts } from '../gate/decision-input';
import type { Clock } from '../clock';
import type { SessionContext } from '../auth/sessions';
import { declaredResources } from '../gate/declared-resources';
import { enqueueFactorNotice } from '../mail/enqueue';
import { auditFactorAction } from './audit';
import { StepUpRefused, stepUpRefusalIn, stepUpRefusalOf } from './step-up';
import { factorNameSchema } from './totp';

/** Self-service management of a user's factors (/portal/security). */

export const factorTypeLabels: Record<Method, string> = {
  totp: 'Authenticator app (TOTP)',
  webauthn: 'Security key or passkey',
  duo: 'Duo',
};

export interface SecurityOverview {
  factors: FactorListItem[];
  recoveryCodes: { total: number; unused: number };
}

export async function securityOverview(db: Kysely<Database>, userId: string): Promise<SecurityOverview> {
  const [factors, recoveryCodes] = await Promise.all([listFactors(db, userId), recoveryCodeCounts(db, userId)]);
  return { factors, recoveryCodes };
}

const factorIdSchema = z.string().min(1).max(64);
const renameSchema = z.object({ factorId: factorIdSchema, name: factorNameSchema });
const removeSchema = z.object({ factorId: factorIdSchema });

export type FactorChangeResult =
  | { ok: true }
  | { ok: false; reason: 'invalid' | 'not_found' | 'not_verified' | 'not_fresh' | 'last_factor_required'; message?: string };

export const factorChangeMessages: Record<Exclude<FactorChangeResult, { ok: true }>['reason'], string> = {
  invalid: 'Check the form and try again.',
  not_found: 'That sign-in method no longer exists.',
  not_verified: 'Confirm it’s you with your second factor first.',
  not_fresh: 'Confirm it’s you with your second factor first.',
  last_factor_required:
    'You can’t remove your last sign-in method: your organization requires multi-factor authentication. Add another one first.',
};

export async function renameFactor(
  db: Kysely<Database>,
  session: SessionContext,
  input: unknown,
  client: { ip: string | null },
  clock: Clock,
): Promise<FactorChangeResult> {
  const parsed = renameSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: 'invalid', message: parsed.error.issues[0]?.message };
  const { factorId, name } = parsed.data;
  const factor = await getFactorOfUser(db, session.userId, factorId);
  if (!factor) return { ok: false, reason: 'not_found' };
  // NOTE: write first inside transactions (see lib/factors/totp.ts confirmTotpSetup).
  try {
    return await db.transaction().execute(async (trx): Promise<FactorChangeResult> => {
      if (!(await renameFactorRow(trx, session.userId, factorId, name))) return { ok: false, reason: 'not_found' };
      // R-E8: a password alone may not relabel factors (a renamed device is easier to miss).
      const refused = await stepUpRefusalIn(trx, session, 'verified', clock, true);
      if (refused !== null) throw new StepUpRefused(refused);
      await auditFactorAction(trx, { userId: session.userId, username: session.username, clientIp: client.ip }, clock.now(), 'mfa.factor_renamed', {
        factorId,
        from: factor.name,
        to: name,
      });
      return { ok: true };
    });
  } catch (err) {
    const refused = stepUpRefusalOf(err);
    if (refused !== null) return { ok: false, reason: refused };
    throw err;
  }
}

/**
 * Whether MFA would still be required of this user with only `methods` left: the gate's
 * own decide() for every declared resource, as a fresh sign-in (no second factor yet)
 * from this request. Enrollment or lock-out anywhere means yes.
 */
export async function mfaRequiredWith(
  db: Kysely<Database>,
  session: SessionContext,
  methods: Method[],
  request: RequestFacts,
  clock: Clock,
): Promise<boolean> {
  // NOTE: loaded directly, not through the gate's compiled cache: removal is rare, and the
  // answer must come from this database (tests run many at once).
  const [requirement, groupIds, records, settings] = await Promise.all([
    getMfaRequirement(db, session.userId),
    groupIdsOfUser(db, session.userId),
    loadPolicyRecords(db),
    loadMfaSettings(db),
  ]);
  const config = { policies: compilePolicies(records), settings };
  const user = { userId: session.userId, userState: session.userState, groupIds, requirement, enrolledMethods: methods };
  for (const resource of declaredResources().ids) {
    const decision = decide(decisionInputFrom(user, freshSignIn, resource, request, config, clock.now()));
    if (decision.kind === 'enroll' || decision.kind === 'locked') return true;
  }
  return false;
}

/**
 * Removes one of the user's factors. Needs a second factor passed in the last five
 * minutes, and refuses the last one that keeps the user enrolled while MFA is required.
 * With no factor left the recovery codes go too: they would be a way in without one.
 */
export async function removeFactor(
  db: Kysely<Database>,
  session: SessionContext,
  input: unknown,
  client: RequestFacts,
  clock: Clock,
): Promise<FactorChangeResult> {
  const parsed = removeSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: 'invalid' };
  const { factorId } = parsed.data;
  const factor = await getFactorOfUser(db, session.userId, factorId);
  if (!factor) return { ok: false, reason: 'not_found' };
  try {
    // NOTE: delete first, then check what is left and roll back if the rule says no: a
    // transaction that writes first waits for other instances instead of failing (SQLite),
    // and two parallel removals cannot both see the other factor as still there.
    const result = await db.transaction().execute(async (trx): Promise<FactorChangeResult> => {
      if (!(await deleteFactorRow(trx, session.userId, factorId))) throw new Refused('not_found');
      // R-E8: a second factor from the last five minutes, as the session row says now.
      const refused = await stepUpRefusalIn(trx, session, 'fresh', clock, true);
      if (refused !== null) throw new StepUpRefused(refused);
      const remaining = await factorTypesOfUser(trx, session.userId);
      if (await mfaRequiredWith(trx, session, [...new Set(remaining)], client, clock)) {
        // Refused only when this removal is what leaves the user unenrolled while MFA is
        // required; someone not enrolled enough anyway (say WebAuthn only, TOTP wanted)
        // may still tidy up.
        const before = await mfaRequiredWith(trx, session, [...new Set([...remaining, factor.type])], client, clock);
        if (!before) throw new Refused('last_factor_required');
      }
      const now = clock.now();
      if (remaining.length === 0) await deleteRecoveryCodes(trx, session.userId);
      // Issue 18 part 3: removing a factor forgets every remembered device.
      const forgottenDevices = await forgetAllDevices(trx, session.userId, now);
      await auditFactorAction(trx, { userId: session.userId, username: session.username, clientIp: client.ip }, now, 'mfa.factor_removed', {
        factorId,
        type: factor.type,
        name: factor.name,
        lastFactor: remaining.length === 0,
        forgottenDevices,
      });
      await enqueueFactorNotice(trx, { userId: session.userId, kind: 'factor_removed', factorType: factor.type, factorName: factor.name, factorId, at: now });
      return { ok: true };
    });
    // The console's users-per-status counts read the factors (lib/admin/user-counts.ts).
    if (result.ok) invalidateUserCounts(db);
    return result;
  } catch (err) {
    if (err instanceof Refused) return { ok: false, reason: err.reason };
    const refused = stepUpRefusalOf(err);
    if (refused !== null) return { ok: false, reason: refused };
    throw err;
  }
}

class Refused extends Error {
  constructor(readonly reason: 'not_found' | 'last_factor_required') {
    super(reason);
  }
}
