import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { CountingFactorTypes } from '../../db/queries/counting-factors';
import { factorTypesOfUser } from '../../db/queries/factors';
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
 * Whether the user has a second factor that counts (isEnrolled() under the stored settings):
 * what the password rules ask (8 characters with one, 15 without).
 */
export async function hasCountingFactor(db: Kysely<Database>, userId: string): Promise<boolean> {
  const [types, settings] = await Promise.all([factorTypesOfUser(db, userId), loadMfaSettings(db)]);
  return isEnrolled(types, settings);
}
