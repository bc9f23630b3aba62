'use server';

import { redirect } from 'next/navigation';
import { getDb } from '../../../db';
import { systemClock } from '../../../lib/clock';
import { requestClient } from '../../../lib/auth/current';
import { requireAccess } from '../../../lib/gate/require-access';
import { writeRecoveryCodesToShow } from '../../../lib/factors/cookies';
import { removeFactor, renameFactor } from '../../../lib/factors/factors';
import { regenerateRecoveryCodes } from '../../../lib/factors/recovery-codes';
import { changeOwnPassword } from '../../../lib/auth/change-password';
import { verifyPath } from '../../mfa/verify/paths';

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
  const { session } = await requireAccess('portal', securityPath);
  const db = await getDb();
  const result = await renameFactor(
    db.kysely,
    session,
    { factorId: text(formData, 'factorId'), name: text(formData, 'name') },
    await requestClient(),
    systemClock,
  );
  // R-E8: a password-only session confirms its second factor first, then tries again.
  if (!result.ok && result.reason === 'not_verified') redirect(verifyPath({ returnTo: securityPath, fresh: true, why: 'factor_change' }));
  redirect(result.ok ? back({ notice: 'renamed' }) : back({ error: result.reason }));
}

/** Removal needs a second factor from the last five minutes; without one, confirm first and come back. */
export async function removeFactorAction(formData: FormData): Promise<void> {
  const { session } = await requireAccess('portal', securityPath);
  const factorId = text(formData, 'factorId');
  const db = await getDb();
  const result = await removeFactor(db.kysely, session, { factorId }, await requestClient(), systemClock);
  if (!result.ok && result.reason === 'not_fresh' && typeof factorId === 'string') {
    redirect(verifyPath({ returnTo: back({ remove: factorId }), fresh: true, why: 'factor_change' }));
  }
  redirect(result.ok ? back({ notice: 'removed' }) : back({ error: result.reason }));
}

export async function regenerateRecoveryCodesAction(): Promise<void> {
  const { session } = await requireAccess('portal', securityPath);
  const db = await getDb();
  const result = await regenerateRecoveryCodes(db.kysely, session, await requestClient(), systemClock);
  if (!result.ok) {
    if (result.reason === 'not_fresh') redirect(verifyPath({ returnTo: back({ regenerate: '1' }), fresh: true, why: 'factor_change' }));
    redirect(back({ error: result.reason }));
  }
  await writeRecoveryCodesToShow(session.userId, result.codes);
  redirect(`/mfa/recovery-codes?returnTo=${encodeURIComponent(securityPath)}`);
}

/**
 * R-E8: a new password needs a second factor from the last five minutes (if the user has
 * one). Refused, the user confirms it and comes back to type the passwords again: they are
 * never carried through the verify step.
 */
export async function changePasswordAction(formData: FormData): Promise<void> {
  const { session } = await requireAccess('portal', securityPath);
  const db = await getDb();
  const result = await changeOwnPassword(
    db.kysely,
    session,
    { currentPassword: text(formData, 'currentPassword'), newPassword: text(formData, 'newPassword') },
    await requestClient(),
    systemClock,
  );
  if (result.ok) redirect(back({ notice: 'password_changed' }));
  if (result.reason === 'not_fresh' || result.reason === 'not_verified') {
    redirect(verifyPath({ returnTo: securityPath, fresh: true, why: 'factor_change' }));
  }
  redirect(back({ error: result.reason === 'invalid' ? 'invalid_password' : result.reason }));
}
