import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import {
  forgetDeviceRow,
  forgetDevicesOfUser,
  insertRememberedDevice,
  liveDeviceByHash,
  liveDevicesOfUser,
  touchRememberedDevice,
} from '../../db/queries/remembered-devices';
import type { Actor } from '../admin/actor';
import type { Clock } from '../clock';
import { maxRememberDays, minRememberDays, oneDayMs, parseUserAgent } from '../policy';
import { sessionCookie } from './cookie';
import { isWellFormedToken } from './session-token';

/**
 * Issue 18 part 3, remembered devices: "don't ask again on this device for N days". The
 * device's token is 32 random bytes in a cookie of its own; the database keeps only its
 * sha256 with the user, the browser family and OS it was made on, and when it was made and
 * last seen. The gate (lib/gate/access.ts) looks it up only when a decision would challenge
 * under a policy that allows remembering; decide() then compares its age with that policy's
 * N (R-D15). Forgetting marks the row; it never counts again.
 */

/** last_seen_at moves at most this often: a write per device an hour, not per request. */
export const rememberedDeviceTouchMs = 60 * 60_000;
/** A person's list shows at most this many (one per browser they ticked the box in). */
export const maxDevicesListed = 50;

export function newDeviceToken(): string {
  return randomBytes(32).toString('base64url');
}

export function deviceTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * The device cookie's name and attributes: HttpOnly, SameSite=Lax, Path=/, Secure on an
 * https origin, and the session cookie's Domain (if any), so the apps behind forward-auth
 * that receive the session also receive the device. `__Host-`/`__Secure-` prefixed over
 * https, as the session cookie is.
 */
export function deviceCookie(origin?: string, cookieDomain?: string) {
  const session = sessionCookie(origin, cookieDomain);
  return {
    name: session.name.replace(/session$/, 'device'),
    httpOnly: true as const,
    sameSite: 'lax' as const,
    path: '/' as const,
    secure: session.secure,
    ...(session.domain ? { domain: session.domain } : {}),
  };
}

const daysSchema = z.number().int().min(minRememberDays).max(maxRememberDays);

export interface RememberedDevice {
  id: string;
  browser: string;
  os: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

/**
 * Remembers this browser for `days` days for the signed-in person, who just passed a second
 * factor under a policy that allows it (the caller checked both). Audited in the same
 * transaction. Returns the token for the cookie and its Max-Age.
 */
export async function rememberDevice(
  db: Kysely<Database>,
  person: { userId: string; username: string },
  input: { days: number; userAgent: string | null; ip: string | null },
  clock: Clock,
): Promise<{ id: string; token: string; maxAgeSeconds: number }> {
  const days = daysSchema.parse(input.days);
  const { os, browser } = parseUserAgent(input.userAgent ?? '');
  const token = newDeviceToken();
  const id = randomUUID();
  const now = clock.now();
  await db.transaction().execute(async (trx) => {
    await insertRememberedDevice(trx, {
      id,
      user_id: person.userId,
      token_hash: deviceTokenHash(token),
      browser,
      os,
      created_at: now,
      last_seen_at: now,
      expires_at: now + days * oneDayMs,
      forgotten_at: null,
    });
    await writeAudit(trx, {
      at: now,
      actorId: person.userId,
      actorLabel: person.username,
      action: 'mfa.device_remembered',
      targetType: 'user',
      targetId: person.userId,
      details: { deviceId: id, days, browser, os },
      clientIp: input.ip,
    });
  });
  return { id, token, maxAgeSeconds: days * (oneDayMs / 1000) };
}

/**
 * The device the request presented, as decide() reads it: its creation time, only if the
 * token is `userId`'s, unexpired and not forgotten; null otherwise (a malformed token costs
 * no query). Moves last_seen_at at most once an hour.
 */
export async function presentedDevice(
  db: Kysely<Database>,
  userId: string,
  token: string | null | undefined,
  clock: Clock,
): Promise<{ createdAt: number } | null> {
  if (!isWellFormedToken(token)) return null;
  const now = clock.now();
  const row = await liveDeviceByHash(db, userId, deviceTokenHash(token), now);
  if (!row) return null;
  if (now - row.last_seen_at >= rememberedDeviceTouchMs) await touchRememberedDevice(db, row.id, now, now - rememberedDeviceTouchMs);
  return { createdAt: row.created_at };
}

/** The person's live devices, newest first. */
export async function listRememberedDevices(db: Kysely<Database>, userId: string, clock: Clock): Promise<RememberedDevice[]> {
  const rows = await liveDevicesOfUser(db, userId, clock.now(), maxDevicesListed);
  return rows.map((r) => ({ id: r.id, browser: r.browser, os: r.os, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at }));
}

const deviceIdSchema = z.string().min(1).max(64);

/**
 * Forgets one of `userId`'s devices, by the person or an admin (`actor`); audited. False
 * when the id is malformed, someone else's or already forgotten.
 */
export async function forgetRememberedDevice(db: Kysely<Database>, userId: string, deviceId: unknown, actor: Actor, clock: Clock): Promise<boolean> {
  const parsed = deviceIdSchema.safeParse(deviceId);
  if (!parsed.success) return false;
  return db.transaction().execute(async (trx) => {
    const now = clock.now();
    if (!(await forgetDeviceRow(trx, userId, parsed.data, now))) return false;
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'mfa.device_forgotten',
      targetType: 'user',
      targetId: userId,
      details: { deviceId: parsed.data, byAdmin: actor.id !== userId },
      clientIp: actor.clientIp,
    });
    return true;
  });
}

/** Forgets all of `userId`'s devices, by the person or an admin; audited (with the count). */
export async function forgetAllRememberedDevices(db: Kysely<Database>, userId: string, actor: Actor, clock: Clock): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const now = clock.now();
    const forgotten = await forgetAllDevices(trx, userId, now);
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'mfa.devices_forgotten',
      targetType: 'user',
      targetId: userId,
      details: { forgotten, byAdmin: actor.id !== userId },
      clientIp: actor.clientIp,
    });
    return forgotten;
  });
}

/**
 * The hook for every change that must end remembered devices: a password change or reset,
 * an MFA reset, a factor removed (by the person or an admin). Call it with the change's own
 * transaction; the caller's audit entry records the count (`forgottenDevices`).
 */
export async function forgetAllDevices(db: Kysely<Database>, userId: string, now: number): Promise<number> {
  return forgetDevicesOfUser(db, userId, now);
}
