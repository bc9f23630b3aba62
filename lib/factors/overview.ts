import { getDb } from '../../db';
import { factorTypesOfUser } from '../../db/queries/factors';
import type { FactorType } from '../../db/schema';
import { recoveryCodeCounts } from '../../db/queries/recovery-codes';
import { loadMfaSettings } from '../../db/queries/settings';
import { getMfaRequirement } from '../../db/queries/mfa';
import { graceWindowsOfUser } from '../../db/queries/policy-grace';
import type { Decision, MfaSettings } from '../policy';

/**
 * What the /mfa pages and routes show about a user's ways in: small reads that open the
 * database handle themselves, so pages and route handlers never reach into db/queries.
 */

/** The organization's MFA settings (which methods are enabled, R-A2). */
export async function currentMfaSettings(): Promise<MfaSettings> {
  return loadMfaSettings((await getDb()).kysely);
}

/** The types of the user's factors, one entry per factor. */
export async function factorTypesOf(userId: string): Promise<FactorType[]> {
  return factorTypesOfUser((await getDb()).kysely, userId);
}

/** The user's factor types with the settings, read together (the verify page). */
export async function verifyOptionsOf(userId: string): Promise<{ factorTypes: FactorType[]; settings: MfaSettings }> {
  const db = (await getDb()).kysely;
  const [factorTypes, settings] = await Promise.all([factorTypesOfUser(db, userId), loadMfaSettings(db)]);
  return { factorTypes, settings };
}

/** Ways in other than Duo, for when Duo cannot answer (R-D10): usable factors and unused recovery codes. */
export async function otherWaysIn(userId: string): Promise<{ totp: boolean; webauthn: boolean; recoveryCodes: boolean }> {
  const db = (await getDb()).kysely;
  const [types, codes, settings] = await Promise.all([factorTypesOfUser(db, userId), recoveryCodeCounts(db, userId), loadMfaSettings(db)]);
  return {
    totp: types.includes('totp') && settings.totp,
    webauthn: types.includes('webauthn') && settings.webauthn,
    recoveryCodes: codes.unused > 0,
  };
}

/** The recovered page's facts: the user's recovery codes left, and which devices may be added. */
export async function recoveryOverviewOf(userId: string): Promise<{ codes: { total: number; unused: number }; settings: MfaSettings }> {
  const db = (await getDb()).kysely;
  const [codes, settings] = await Promise.all([recoveryCodeCounts(db, userId), loadMfaSettings(db)]);
  return { codes, settings };
}

/**
 * When a person who chose "Skip for now" must have set up MFA: the end of their enrollment
 * period (R-D5), or null when the decision is no skip (nothing pending, or already enrolled).
 */
export async function skippedEnrollmentDeadline(userId: string, decision: Decision): Promise<number | null> {
  // Issue 18 part 6: R-D16 allows a session that skipped in a policy's running grace window.
  if (decision.kind === 'allow' && decision.rule === 'R-D16' && decision.policy) {
    const policyId = decision.policy.id;
    const window = (await graceWindowsOfUser((await getDb()).kysely, userId)).find((w) => w.policyId === policyId);
    return window?.endsAt ?? null;
  }
  // NOTE: decide() allows by R-D5 only for a session that skipped a running period.
  if (decision.kind !== 'allow' || decision.rule !== 'R-D5') return null;
  const requirement = await getMfaRequirement((await getDb()).kysely, userId);
  return requirement?.required ? requirement.periodEndsAt : null;
}
