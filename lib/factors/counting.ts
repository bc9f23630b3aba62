import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { userHasCountingFactor, type CountingFactorTypes } from '../../db/queries/counting-factors';
import { loadMfaSettings } from '../../db/queries/settings';
import { isEnrolled, type Method, type MfaSettings } from '../policy';

/**
 * Which factors count as enrolled, for the queries that classify many users at once (the
 * users directory, its counts, the enrollment mail): exactly the types isEnrolled() accepts
 * for one user at the gate. Null: every user counts (Duo only, R-E5).
 */
export function countingFactorTypes(settings: MfaSettings): CountingFactorTypes {
  if (isEnrolled([], settings)) return null;
  return (['totp', 'webauthn', 'duo'] as const).filter((m: Method) => isEnrolled([m], settings));
}

/** countingFactorTypes() under the stored settings. */
export async function loadCountingFactorTypes(db: Kysely<Database>): Promise<CountingFactorTypes> {
  return countingFactorTypes(await loadMfaSettings(db));
}

/**
 * True when the user has a factor that counts (Duo only: everyone does), so their password is
 * not their only factor: the password rules then ask for 8 characters instead of 15.
 */
export async function hasSecondFactor(db: Kysely<Database>, userId: string): Promise<boolean> {
  return userHasCountingFactor(db, userId, await loadCountingFactorTypes(db));
}
