import { notFound } from 'next/navigation';
import { systemClock } from '../../../../lib/clock';
import { formatDateTime } from '../../../../lib/format';
import { requirePermission } from '../../../../lib/admin/console-guard';
import { isNotFoundError } from '../../../../lib/errors/brand';
import { userThrottleState } from '../../../../lib/admin/unlock';
import { getUserDetail, type InvitationSummary, type UserDetail } from '../../../../lib/admin/user-directory';
import { invitationMessages } from '../../../../lib/admin/invitations';
import { factorTypeLabels } from '../../../../lib/factors/factors';
import { defaultEnrollmentDays } from '../../../../lib/policy';
import { Confirm, ConfirmAction } from '../../_components/fields';
import { AdminShell } from '../../_components/shell';
import { mfaStatusDetail, mfaStatusText } from '../../_lib/mfa-status';
import {
  changeRoleAction,
  removeFactorAction,
  resendInvitationAction,
  resetTotpAction,
  revokeSessionsAction,
  forgetDeviceAction,
  forgetDevicesAction,
  sendPasswordResetAction,
  unlockUserAction,
  updateUserAction,
} from './actions';
import { EditUserForm, ResetTotpForm, RoleForm } from './forms';
import { can } from '../../../../lib/admin/permissions';
import { userRememberedDevices } from '../../../../lib/admin/user-devices';
import { RememberedDevicesList } from '../../../_components/remembered-devices';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'User details' };

export const dynamic = 'force-dynamic';

type Params = Promise<{ id: string }>;
type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const doneMessages: Record<string, string> = {
  created: 'User created.',
  unlocked: 'Unlocked: the user’s sign-in and second-factor attempt counts are cleared.',
  sessions_revoked: 'All of the user’s sessions are revoked: they must sign in again everywhere.',
  password_reset_sent: 'Password reset sent: a link to set a new password, valid for 30 minutes, is on its way to the user’s email address.',
  factor_removed: 'Factor removed. The user has been emailed.',
  reset: 'TOTP reset: a new enrollment period has started and the user has been emailed.',
  reset_staged: 'TOTP reset: the user is staged, so the new period starts when they are activated.',
  invitation_sent: 'Invitation sent. The earlier link no longer works.',
  invitation_staged: 'New invitation ready: it is sent when the user is activated. The earlier link no longer works.',
  device_forgotten: 'Device forgotten: the user is asked for a second factor there again.',
  devices_forgotten: 'All remembered devices forgotten: the user is asked for a second factor on each again.',
};

const errorMessages: Record<string, string> = {
  factor_not_found: 'That factor no longer exists.',
  device_not_found: 'That device was already forgotten.',
  not_found: 'That user no longer exists.',
  invitation_hasPassword: invitationMessages.hasPassword,
  invitation_noEmail: invitationMessages.noEmail,
  invitation_suspended: invitationMessages.suspended,
  reset_no_email: 'No password reset was sent: the user has no email address. Add one first.',
  reset_not_active: 'No password reset was sent: only an active user can be sent one.',
};

/** "Invited, not set up" in words, for the summary. */
function invitationText(invitation: InvitationSummary): string {
  const invited = `Invited on ${formatDateTime(invitation.invitedAt)}`;
  switch (invitation.status) {
    case 'unsent':
      return `${invited}; the invitation is sent when the user is activated.`;
    case 'open':
      return `${invited}; not set up yet. The link is valid until ${formatDateTime(invitation.expiresAt!)}.`;
    case 'expired':
      return `${invited}; not set up. The link expired on ${formatDateTime(invitation.expiresAt!)}: send a new one.`;
    case 'accepted':
      return `${invited}; the user set their password.`;
    case 'voided':
      return invitation.passwordSet ? `${invited}; the user has a password.` : `${invited}; the link no longer works: send a new one.`;
  }
}

function waitText(ms: number): string {
  if (ms <= 0) return 'may try now';
  const seconds = Math.ceil(ms / 1000);
  return seconds < 120 ? `must wait ${seconds} s` : `must wait ${Math.ceil(seconds / 60)} min`;
}

/** R-F3: one user's status and factors, and what an admin can do about them. */
export default async function UserPage({ params, searchParams }: { params: Params; searchParams: SearchParams }) {
  const { id } = await params;
  const query = await searchParams;
  const { session, db } = await requirePermission('users.view', `/admin/users/${encodeURIComponent(id)}`); // R-D9
  let user: UserDetail;
  try {
    user = await getUserDetail(db, id, systemClock);
  } catch (err) {
    if (isNotFoundError(err)) notFound();
    throw err;
  }
  const [throttle, devices] = await Promise.all([userThrottleState(db, user, systemClock), userRememberedDevices(db, user.id, systemClock)]);
  // Only what this role may do is offered; each action checks again itself.
  const may = (p: Parameters<typeof can>[1]) => can(session.role, p);
  const removed = typeof query.removed === 'string' && /^\d{1,3}$/.test(query.removed) ? Number(query.removed) : 0;
  const done =
    typeof query.done === 'string' && doneMessages[query.done] !== undefined
      ? doneMessages[query.done] +
        (query.done.startsWith('reset') && removed > 0 ? ` ${removed} authenticator app${removed === 1 ? '' : 's'} removed.` : '') +
        (query.done.startsWith('reset') && query.required === 'new' ? ' MFA is now required for this user.' : '')
      : undefined;
  const error = typeof query.error === 'string' ? errorMessages[query.error] : undefined;
  const hasTotp = user.mfa.factors.some((f) => f.type === 'totp');

  return (
    <AdminShell title={`User ${user.username}`} session={session} current="/admin/users">
      <p>
        <a href="/admin/users">Back to users</a>
      </p>
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      <section aria-labelledby="summary-heading">
        <h2 id="summary-heading">Summary</h2>
        <dl>
          <dt>Username</dt>
          <dd>{user.username}</dd>
          <dt>Name</dt>
          <dd>{user.displayName ?? '—'}</dd>
          <dt>Email</dt>
          <dd>{user.email ?? '—'}</dd>
          <dt>State</dt>
          <dd data-testid="user-state">{user.state}</dd>
          <dt>Role</dt>
          <dd>{user.role}</dd>
          <dt>Last sign-in</dt>
          <dd data-testid="last-sign-in">{user.lastSignInAt === null ? 'Never' : formatDateTime(user.lastSignInAt)}</dd>
          <dt>MFA</dt>
          <dd>
            <span className="mfa-status" title={mfaStatusDetail(user.mfa)} data-testid="mfa-status">
              {mfaStatusText[user.mfa.status]}
            </span>
            <p className="hint" data-testid="mfa-detail">
              {mfaStatusDetail(user.mfa)}
            </p>
          </dd>
          {user.invitation && (
            <>
              <dt>Invitation</dt>
              <dd data-testid="invitation-status">{invitationText(user.invitation)}</dd>
            </>
          )}
          <dt>Groups</dt>
          <dd>
            {user.groups.length === 0
              ? 'None'
              : user.groups.map((g, i) => (
                  <span key={g.id}>
                    {i > 0 ? ', ' : ''}
                    {may('groups.view') ? <a href={`/admin/groups/${encodeURIComponent(g.id)}`}>{g.name}</a> : g.name}
                  </span>
                ))}
          </dd>
        </dl>
      </section>

      <section aria-labelledby="factors-heading">
        <h2 id="factors-heading">Factors</h2>
        {user.mfa.factors.length === 0 ? (
          <p>No second factor set up.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Method</th>
                <th scope="col">Name</th>
                <th scope="col">Added</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {user.mfa.factors.map((f) => (
                <tr key={f.id}>
                  <td>{factorTypeLabels[f.type]}</td>
                  <td>{f.name}</td>
                  <td>{formatDateTime(f.createdAt)}</td>
                  <td>{f.lastUsedAt ? formatDateTime(f.lastUsedAt) : 'Never'}</td>
                  <td>
                    {may('users.remove_factor') && (
                      <ConfirmAction
                        summary={`Remove ${f.name}…`}
                        action={removeFactorAction}
                        fields={{ userId: user.id, factorId: f.id }}
                        label={`Remove factor ${f.name}`}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {(user.mfa.status === 'expired' || hasTotp) && may('users.reset_totp') && (
          <>
            <h3 id="reset-totp">Reset TOTP</h3>
            <p className="hint">
              {user.mfa.status === 'expired'
                ? 'The enrollment period ended without TOTP set up, so the user is locked out of TOTP-protected resources. This is what lets them back in: a reset starts a new period and emails the user. (“Unlock sign-in” below does not help here.)'
                : 'For a lost or replaced phone: removes the user’s authenticator apps (other sign-in methods stay) and starts a new enrollment period to set one up again. The user is emailed.'}
              {!user.mfa.required && ' MFA is not required for this user yet: the reset requires it, with the period you enter.'}
            </p>
            <Confirm summary="Reset TOTP…">
              <ResetTotpForm userId={user.id} defaultDays={defaultEnrollmentDays} action={resetTotpAction} />
            </Confirm>
          </>
        )}
      </section>

      {may('users.edit') && (
      <section aria-labelledby="edit-heading">
        <h2 id="edit-heading">Edit</h2>
        <EditUserForm
          action={updateUserAction}
          user={{
            id: user.id,
            state: user.state,
            email: user.email ?? '',
            displayName: user.displayName ?? '',
            required: user.mfa.required,
            enrollmentDays: user.mfa.enrollmentDays ?? defaultEnrollmentDays,
            canStage: user.state === 'staged',
          }}
        />
      </section>
      )}

      <section aria-labelledby="access-heading">
        <h2 id="access-heading">Sign-in and sessions</h2>
        <p data-testid="throttle-state">
          Password attempts: {throttle.signIn.failures} failed, {waitText(throttle.signIn.retryAfterMs)}. Second-factor attempts:{' '}
          {throttle.mfa.failures} failed today, {throttle.mfa.throttledSources} {throttle.mfa.throttledSources === 1 ? 'source' : 'sources'} held back
          {throttle.mfa.retryAfterMs > 0 ? ` (${waitText(throttle.mfa.retryAfterMs)})` : ''}
          {throttle.mfa.capped.length > 0 ? `; daily limit reached for ${throttle.mfa.capped.join(' and ')} codes` : ''}.
        </p>
        {user.mfa.status === 'expired' ? (
          <p className="notice" data-testid="unlock-hint">
            {user.username}’s enrollment period has ended: “Unlock sign-in” will not let them in, as it only clears counts of wrong passwords and
            codes. <a href="#reset-totp">Reset TOTP</a> starts a new enrollment period, which does.
          </p>
        ) : (
          <p className="hint">“Unlock sign-in” clears the counts of wrong passwords and codes, for a user held back after too many wrong guesses.</p>
        )}
        {may('users.unlock') && (
          <form action={unlockUserAction} className="inline">
            <input type="hidden" name="userId" value={user.id} />
            <button type="submit" className="secondary">
              Unlock sign-in
            </button>
          </form>
        )}{' '}
        {may('users.revoke_sessions') && (
          <ConfirmAction
            summary="Revoke all sessions…"
            action={revokeSessionsAction}
            fields={{ userId: user.id }}
            label="Revoke all sessions"
          />
        )}
        {!may('users.send_password_reset') ? null : user.state === 'active' && user.email ? (
          <ConfirmAction
            summary="Send password reset…"
            action={sendPasswordResetAction}
            fields={{ userId: user.id }}
            label={`Send a reset link to ${user.email}`}
          />
        ) : (
          <p className="hint">A password reset link can be sent to an active user with an email address.</p>
        )}
      </section>

      <section aria-labelledby="devices-heading">
        <h2 id="devices-heading">Remembered devices</h2>
        <p className="hint">Browsers where the user ticked “Don’t ask again on this device”. Forgetting one asks for a second factor there again.</p>
        {may('users.forget_devices') ? (
          <RememberedDevicesList
            devices={devices}
            forget={forgetDeviceAction}
            forgetAll={forgetDevicesAction}
            fields={{ userId: user.id }}
            whose="This user has"
          />
        ) : (
          <p>{devices.length === 0 ? 'None.' : `${devices.length} remembered.`}</p>
        )}
      </section>

      {!user.invitation?.passwordSet && user.email && user.state !== 'suspended' && may('users.send_invitation') && (
        <section aria-labelledby="invitation-heading">
          <h2 id="invitation-heading">Invitation</h2>
          <p className="hint">
            {user.invitation ? 'Sends a new link to set a password; the earlier one stops working.' : 'The user has no password: invite them to set their own.'}
            {user.state === 'staged' && ' The user is staged: the invitation is sent when they are activated.'}
          </p>
          <form action={resendInvitationAction} className="inline">
            <input type="hidden" name="userId" value={user.id} />
            <button type="submit" className="secondary">
              {user.invitation ? 'Resend invitation' : 'Send invitation'}
            </button>
          </form>
        </section>
      )}

      {may('users.change_role') && (
        <section aria-labelledby="role-heading">
          <h2 id="role-heading">Role</h2>
          <p className="hint">
            Admins can open this console (after a second factor). Helpdesk can open it to look users up, reset TOTP, unlock sign-in, revoke
            sessions and send invitations and password resets, nothing else. Changing a role is audited.
          </p>
          <RoleForm userId={user.id} role={user.role} action={changeRoleAction} />
        </section>
      )}
    </AdminShell>
  );
}
