import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { getUserById } from '../../db/queries/users';
import { forgetAllRememberedDevices, forgetRememberedDevice, listRememberedDevices, type RememberedDevice } from '../auth/remembered-devices';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { NotFoundError } from './errors';

/**
 * Issue 18 part 3, from the console's user page: a user's remembered devices, and forgetting
 * one or all of them (permission `users.forget_devices`: like revoking sessions, the
 * helpdesk may). Audited by the device service as `mfa.device_forgotten` /
 * `mfa.devices_forgotten`, with `byAdmin`.
 */

async function existingUser(db: Kysely<Database>, userId: unknown): Promise<string> {
  const user = typeof userId === 'string' && userId.length <= 200 ? await getUserById(db, userId) : undefined;
  if (!user) throw new NotFoundError('user', [String(userId).slice(0, 200)]);
  return user.id;
}

/** @throws NotFoundError('user') */
export async function userRememberedDevices(db: Kysely<Database>, userId: string, clock: Clock): Promise<RememberedDevice[]> {
  return listRememberedDevices(db, await existingUser(db, userId), clock);
}

/**
 * Forgets one device of the user's.
 * @throws NotFoundError('user'), NotFoundError('device') when it is not theirs or already forgotten
 */
export async function forgetUserDevice(db: Kysely<Database>, userId: string, deviceId: unknown, actor: Actor, clock: Clock): Promise<void> {
  const id = await existingUser(db, userId);
  if (!(await forgetRememberedDevice(db, id, deviceId, actor, clock))) throw new NotFoundError('device', [String(deviceId).slice(0, 64)]);
}

/** @throws NotFoundError('user') */
export async function forgetUserDevices(db: Kysely<Database>, userId: string, actor: Actor, clock: Clock): Promise<{ forgotten: number }> {
  const id = await existingUser(db, userId);
  return { forgotten: await forgetAllRememberedDevices(db, id, actor, clock) };
}
