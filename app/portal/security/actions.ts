'use server';

import { redirect } from 'next/navigation';
import { getDb } from '../../../db';
import { systemClock } from '../../../lib/clock';
import { actionAccess, followRefusal } from '../../../lib/gate';
import { writeRecoveryCodesToShow } from '../../../lib/factors/cookies';
import { removeFactor, renameFactor } from '../../../lib/factors/factors';
import { regenerateRecoveryCodes } from '../../../lib/factors/recovery-codes';
import { changeOwnPassword } from '../../../lib/auth/change-password';
import { verifyPath } from '../../../lib/factors/verify-path';
import { forgetAllRememberedDevices, forgetRememberedDevice, presentedDevice } from '../../../lib/auth/remembered-devices';
import type { SessionContext } from '../../../lib/auth/sessions';
import type { RequestFacts } from '../../../lib/gate';

const securityPath = '/portal/security';

function text(formData: FormData, name: string): unknown {
  const values = formData.getAll(name);
  return values.length === 1 ? values[0] : values;
}

function back(params: Record<string, string>): string {
  return `${securityPath}?${new URLSearchParams(params).toString()}`;
}

export async function renameFactorAction(formData: FormData): Promise<void> {
  // R-D9: every action checks access itself.
  const access = await actionAccess('portal', securityPath);
  if (!access.ok) followRefusal(access);
  const { session, client } = access;
  const db = await getDb();
  const result = await renameFactor(
    db.kysely,
    session,
    { factorId: text(formData, 'factorId'), name: text(formData, 'name') },
    client,
    systemClock,
  );
  // R-E8: a password-only session confirms its second factor first, then tries again.
  if (!result.ok && result.reason === 'not_verified') redirect(verifyPath({ returnTo: securityPath, fresh: true, why: 'factor_change' }));
  redirect(result.ok ? back({ notice: 'renamed' }) : back({ error: result.reason }));
}

/** Removal needs a second factor from the last five minutes; without one, confirm first and come back. */
export async function removeFactorAction(formData: FormData): Promise<void> {
  const access = await actionAccess('portal', securityPath);
  if (!access.ok) followRefusal(access);
  const { session, client } = access;
  const factorId = text(formData, 'factorId');
  const db = await getDb();
  const result = await removeFactor(db.kysely, session, { factorId }, client, systemClock);
  if (!result.ok && result.reason === 'not_fresh' && typeof factorId === 'string') {
    redirect(verifyPath({ returnTo: back({ remove: factorId }), fresh: true, why: 'factor_change' }));
  }
  redirect(result.ok ? back({ notice: 'removed' }) : back({ error: result.reason }));
}

export async function regenerateRecoveryCodesAction(): Promise<void> {
  const access = await actionAccess('portal', securityPath);
  if (!access.ok) followRefusal(access);
  const { session, client } = access;
  const db = await getDb();
  const result = await regenerateRecoveryCodes(db.kysely, session, client, systemClock);
  if (!result.ok) {
    if (result.reason === 'not_fresh') redirect(verifyPath({ returnTo: back({ regenerate: '1' }), fresh: true, why: 'factor_change' }));
    redirect(back({ error: result.reason }));
  }
  await writeRecoveryCodesToShow(session.userId, result.codes, 'regenerated');
  redirect(`/mfa/recovery-codes?returnTo=${encodeURIComponent(securityPath)}`);
}

/**
 * R-E8: a new password needs a second factor from the last five minutes (if the user has
 * one). Refused, the user confirms it and comes back to type the passwords again: they are
 * never carried through the verify step.
 */
export async function changePasswordAction(formData: FormData): Promise<void> {
  const access = await actionAccess('portal', securityPath);
  if (!access.ok) followRefusal(access);
  const { session, client } = access;
  const db = await getDb();
  const result = await changeOwnPassword(
    db.kysely,
    session,
    { currentPassword: text(formData, 'currentPassword'), newPassword: text(formData, 'newPassword') },
    client,
    systemClock,
  );
  if (result.ok) redirect(back({ notice: 'password_changed' }));
  if (result.reason === 'not_fresh' || result.reason === 'not_verified') {
    redirect(verifyPath({ returnTo: securityPath, fresh: true, why: 'factor_change' }));
  }
  if (result.reason === 'refused_password') redirect(back({ error: `password_${result.refusal}` }));
  redirect(back({ error: result.reason === 'invalid' ? 'invalid_password' : result.reason }));
}

/**
 * Issue 18 part 3: forgets one of the person's remembered devices. Needs no fresh second
 * factor: forgetting only ever asks for more. Someone else's device id is "not found".
 */
export async function forgetDeviceAction(formData: FormData): Promise<void> {
  const access = await actionAccess('portal', securityPath);
  if (!access.ok) followRefusal(access);
  const { session, client } = access;
  const db = await getDb();
  const actor = { id: session.userId, label: session.username, clientIp: client.ip };
  const forgotten = await forgetRememberedDevice(db.kysely, session.userId, text(formData, 'deviceId'), actor, systemClock);
  redirect(await afterForgetting(session, client, forgotten ? back({ notice: 'device_forgotten' }) : back({ error: 'device_not_found' })));
}

/** Issue 18 part 3: forgets all of the person's remembered devices. */
export async function forgetAllDevicesAction(): Promise<void> {
  const access = await actionAccess('portal', securityPath);
  if (!access.ok) followRefusal(access);
  const { session, client } = access;
  const db = await getDb();
  const actor = { id: session.userId, label: session.username, clientIp: client.ip };
  await forgetAllRememberedDevices(db.kysely, session.userId, actor, systemClock);
  redirect(await afterForgetting(session, client, back({ notice: 'devices_forgotten' })));
}

/**
 * Where to go after forgetting: back to this page, unless this very browser's device was
 * forgotten and the session has no second factor of its own (it rode on the device). Then
 * straight to the challenge, coming back here after it: a redirect from the action to a page
 * the gate would turn away renders that page's challenge under the wrong URL.
 */
async function afterForgetting(session: SessionContext, client: RequestFacts, target: string): Promise<string> {
  if (session.aal >= 2 || !client.deviceToken) return target;
  const db = await getDb();
  const stillCounts = (await presentedDevice(db.kysely, session.userId, client.deviceToken, systemClock)) !== null;
  return stillCounts ? target : verifyPath({ returnTo: target });
}
