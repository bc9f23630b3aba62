'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { systemClock } from '../../../../lib/clock';
import { formatDateTime } from '../../../../lib/format';
import { requirePermission } from '../../../../lib/admin/console-guard';
import type { Permission } from '../../../../lib/admin/permissions';
import { NotFoundError } from '../../../../lib/admin/errors';
import { isConflictError, isNotFoundError } from '../../../../lib/errors/brand';
import { resetTotpEnrollment } from '../../../../lib/admin/mfa-requirements';
import { sendPasswordReset } from '../../../../lib/admin/password-reset';
import { revokeUserSessions } from '../../../../lib/admin/sessions';
import { unlockUser } from '../../../../lib/admin/unlock';
import { removeUserFactor } from '../../../../lib/admin/user-factors';
import { forgetUserDevice, forgetUserDevices } from '../../../../lib/admin/user-devices';
import { changeUserRole } from '../../../../lib/admin/user-role';
import { updateUser } from '../../../../lib/admin/user-update';
import { resendInvitation } from '../../../../lib/admin/invitations';
import { daysInput, refusal, text } from '../../_lib/actions';
import type { FormState } from '../../_lib/form-state';

/** The user's page and its actions; every action checks its own permission itself (R-D9, lib/admin/permissions.ts). */

const idPattern = /^[A-Za-z0-9_-]{1,200}$/;

function userPath(id: string): string {
  return `/admin/users/${encodeURIComponent(id)}`;
}

/** The user id from the form, and the permission check for the action on this user's page. */
async function adminForUser(formData: FormData, permission: Permission) {
  const raw = text(formData, 'userId');
  const id = idPattern.test(raw) ? raw : '';
  const admin = await requirePermission(permission, id ? userPath(id) : '/admin/users');
  return { ...admin, id };
}

/** "Save changes": state, the R-B1 requirement and the profile, in one service call (updateUser). */
export async function updateUserAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor, id } = await adminForUser(formData, 'users.edit');
  const requireMfa = text(formData, 'requireMfa') === 'on';
  const days = text(formData, 'enrollmentDays');
  const state = text(formData, 'state');
  const email = text(formData, 'email');
  const displayName = text(formData, 'displayName');
  const values = { state, requireMfa: requireMfa ? 'on' : '', enrollmentDays: days, email, displayName };
  try {
    if (!id) throw new NotFoundError('user');
    const update = {
      state,
      email: email.trim() || null,
      displayName: displayName.trim() || null,
      mfa: requireMfa ? { required: true, enrollmentDays: daysInput(days) } : { required: false },
    };
    const result = await updateUser(db, id, update, actor, systemClock);
    const changes: string[] = [];
    if (result.state?.changed) {
      const { state: now, periodStarted, sessionsRevoked, invitationExpiresAt } = result.state;
      changes.push(
        `state is now ${now}` +
          (periodStarted ? ` (enrollment period until ${formatDateTime(periodStarted.endsAt)})` : '') +
          (invitationExpiresAt !== null ? ` (invitation sent, valid until ${formatDateTime(invitationExpiresAt)})` : '') +
          (sessionsRevoked > 0 ? ` (${sessionsRevoked} session${sessionsRevoked === 1 ? '' : 's'} ended)` : ''),
      );
    }
    const requirement = result.requirement;
    if (requirement) {
      changes.push(
        !requirement.required
          ? 'MFA is no longer required'
          : requirement.periodEndsAt !== null
            ? `MFA required, enrollment period until ${formatDateTime(requirement.periodEndsAt)}`
            : 'MFA required (pre-enrollment: the period starts on activation)',
      );
    }
    for (const field of result.profileChanged) changes.push(profileChangeText(field, update));
    revalidatePath(userPath(id));
    return { ok: changes.length > 0 ? `Saved: ${sentence(changes)}.` : 'Nothing to change.' };
  } catch (err) {
    return refusal(err, values, { 'mfa.enrollmentDays': 'enrollmentDays', 'mfa.required': 'requireMfa' });
  }
}

/** A profile field's change in words: never the field's internal name. */
function profileChangeText(field: string, update: { email: string | null; displayName: string | null }): string {
  switch (field) {
    case 'displayName':
      return update.displayName === null ? 'the display name is cleared' : `the display name is now “${update.displayName}”`;
    case 'email':
      return update.email === null ? 'the email address is cleared' : `the email address is now ${update.email}`;
    default:
      return 'the profile is updated';
  }
}

/** "a", "a and b", "a; b and c". */
function sentence(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join('; ')} and ${parts[parts.length - 1]}`;
}

/** Role changes only here: explicit and audited (no mass assignment). */
export async function changeRoleAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor, id, session } = await adminForUser(formData, 'users.change_role');
  const role = text(formData, 'role');
  try {
    if (!id) throw new NotFoundError('user');
    const result = await changeUserRole(db, id, role, actor, systemClock);
    revalidatePath(userPath(id));
    if (result.changed && id === session.userId && result.role !== 'admin') redirect('/portal');
    return { ok: result.changed ? `Role is now ${result.role}.` : `Role was already ${result.role}.` };
  } catch (err) {
    return refusal(err, { role });
  }
}

/** R-F4 (enrolled or expired users): "Reset TOTP MFA": TOTP factors go, a new enrollment period starts, the user is emailed. */
export async function resetTotpAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor, id } = await adminForUser(formData, 'users.reset_totp');
  const days = text(formData, 'enrollmentDays');
  try {
    if (!id) throw new NotFoundError('user');
    const result = await resetTotpEnrollment(db, id, { enrollmentDays: daysInput(days) }, actor, systemClock);
    // The form goes away with the expired status, so the outcome is said by the page.
    const required = result.requirementCreated ? '&required=new' : '';
    redirect(`${userPath(id)}?done=${result.periodEndsAt !== null ? 'reset' : 'reset_staged'}&removed=${result.removedFactors}${required}`);
  } catch (err) {
    return refusal(err, { enrollmentDays: days }, { enrollmentDays: 'resetDays' });
  }
}

function done(id: string, what: string): never {
  redirect(`${userPath(id)}?done=${what}`);
}

function failed(id: string, err: unknown): never {
  if (isNotFoundError(err)) {
    const what = err.what === 'factor' ? 'factor_not_found' : err.what === 'device' ? 'device_not_found' : 'not_found';
    redirect(id ? `${userPath(id)}?error=${what}` : '/admin/users');
  }
  throw err;
}

/** R-I2: clears the user's password and second-factor guess throttles. */
export async function unlockUserAction(formData: FormData): Promise<void> {
  const { db, actor, id } = await adminForUser(formData, 'users.unlock');
  try {
    await unlockUser(db, id, actor, systemClock);
  } catch (err) {
    failed(id, err);
  }
  done(id, 'unlocked');
}

export async function revokeSessionsAction(formData: FormData): Promise<void> {
  const { db, actor, id, session } = await adminForUser(formData, 'users.revoke_sessions');
  try {
    await revokeUserSessions(db, id, actor, systemClock);
  } catch (err) {
    failed(id, err);
  }
  // Revoking your own sessions signs you out too.
  if (id === session.userId) redirect('/login');
  done(id, 'sessions_revoked');
}

export async function removeFactorAction(formData: FormData): Promise<void> {
  const { db, actor, id } = await adminForUser(formData, 'users.remove_factor');
  try {
    await removeUserFactor(db, id, text(formData, 'factorId'), actor, systemClock);
  } catch (err) {
    failed(id, err);
  }
  done(id, 'factor_removed');
}

/** A new invitation (the older link stops working); refused once the user has a password. */
export async function resendInvitationAction(formData: FormData): Promise<void> {
  const { db, actor, id } = await adminForUser(formData, 'users.send_invitation');
  let staged = false;
  try {
    staged = (await resendInvitation(db, id, actor, systemClock)).expiresAt === null;
  } catch (err) {
    if (isConflictError(err)) redirect(`${userPath(id)}?error=invitation_${err.field ?? 'refused'}`);
    failed(id, err);
  }
  done(id, staged ? 'invitation_staged' : 'invitation_sent');
}

/**
 * ASVS 6.4.6: a single-use link goes to the user's own address; the admin never sees it and
 * never chooses the password. Refused (no address, not active) with the reason on the page.
 */
export async function sendPasswordResetAction(formData: FormData): Promise<void> {
  const { db, actor, id } = await adminForUser(formData, 'users.send_password_reset');
  try {
    await sendPasswordReset(db, id, actor, systemClock);
  } catch (err) {
    if (isConflictError(err)) redirect(`${userPath(id)}?error=${err.field === 'email' ? 'reset_no_email' : 'reset_not_active'}`);
    failed(id, err);
  }
  done(id, 'password_reset_sent');
}

/** Issue 18 part 3: forgets one of the user's remembered devices (helpdesk may, as for sessions). */
export async function forgetDeviceAction(formData: FormData): Promise<void> {
  const { db, actor, id } = await adminForUser(formData, 'users.forget_devices');
  try {
    await forgetUserDevice(db, id, text(formData, 'deviceId'), actor, systemClock);
  } catch (err) {
    failed(id, err);
  }
  done(id, 'device_forgotten');
}

/** Issue 18 part 3: forgets all of the user's remembered devices. */
export async function forgetDevicesAction(formData: FormData): Promise<void> {
  const { db, actor, id } = await adminForUser(formData, 'users.forget_devices');
  try {
    await forgetUserDevices(db, id, actor, systemClock);
  } catch (err) {
    failed(id, err);
  }
  done(id, 'devices_forgotten');
}
