import { forbidden, redirect } from 'next/navigation';
import type { Kysely } from 'kysely';
import { getDb, type Database } from '../../db';
import { factorTypesOfUser } from '../../db/queries/factors';
import { loadAdminReverifyMinutes } from '../../db/queries/settings';
import { systemClock } from '../clock';
import type { SessionContext } from '../auth/sessions';
import { getAccessContext } from '../gate/context';
import { requirePageAccess } from '../gate/require-page-access';
import { pathOf } from '../factors/setup-flow';
import { verifyPath } from '../factors/verify-path';
import type { Actor } from './actor';
import { can, mayOpenConsole, type Permission } from './permissions';

/**
 * The admin console's own wall (R-D9): every /admin page and server action calls
 * requirePermission() itself with what it is for, whatever the middleware already decided.
 *
 *   1. the gate's decision for the portal resource (sign in, deny, lock-out, set up, verify);
 *   2. the role's permission (lib/admin/permissions.ts: helpdesk or admin), else 403
 *      (forbidden(): experimental.authInterrupts, app/admin/forbidden.tsx);
 *   3. a session that passed a second factor (aal 2) within the org's admin re-verification
 *      time (issue 18: 12 hours by default). An admin without any factor is sent to set up
 *      TOTP first, with no skip; one with a factor confirms it on the verify page.
 */

export type AdminVerdict = 'ok' | 'forbidden' | 'enroll' | 'verify';

/**
 * Issue 18: how old the last second factor may be (the org's adminReverifyMinutes, 12 hours
 * by default), and the time to measure it at.
 */
export interface AdminFreshness {
  now: number;
  maxAgeMs: number;
}

/**
 * Steps 2 and 3 as a pure function of the session and whether the admin has a factor.
 * With `freshness`, a second factor older than its limit counts as none: the admin
 * confirms it again on the verify page (the session stays, only its amr gains a new time).
 */
export function adminVerdict(
  session: Pick<SessionContext, 'role' | 'aal'> & { secondFactorAt?: number | null },
  hasFactor: boolean,
  freshness?: AdminFreshness,
): AdminVerdict {
  if (!mayOpenConsole(session.role)) return 'forbidden';
  if (session.aal === 2 && (freshness === undefined || isRecent(session.secondFactorAt ?? null, freshness))) return 'ok';
  return hasFactor ? 'verify' : 'enroll';
}

/** A time in the future (another instance's clock a little ahead) counts as recent. */
function isRecent(at: number | null, { now, maxAgeMs }: AdminFreshness): boolean {
  return at !== null && now - at <= maxAgeMs;
}

/**
 * Where an admin without a factor goes: the TOTP setup page, back to `returnTo` once done.
 * It has no "Skip for now" (only /mfa/setup offers one, for soft periods), and coming back
 * without a factor lands here again.
 */
export function adminEnrollPath(returnTo: string): string {
  return pathOf('totp_scan', returnTo, { forced: '1' });
}

/**
 * Where an admin with a factor but a password-only session goes. `fresh=1`: the verify page
 * otherwise answers only when the gate asks for a challenge, and for an admin whom no
 * requirement or policy covers it would not.
 */
export function adminVerifyPath(returnTo: string): string {
  return verifyPath({ returnTo, fresh: true });
}

export interface AdminContext {
  session: SessionContext;
  /** Who to name in the audit log for changes made in this request. */
  actor: Actor;
  db: Kysely<Database>;
}

/**
 * For every console page and server action, on top of the request's access context (one
 * session lookup however often a page and its components ask). Returns only for someone whose
 * role has `permission` and whose session passed a second factor; otherwise redirects
 * (sign-in, set up, verify, locked, denied) or answers 403. `returnTo` is the page to come
 * back to after a redirect (the page's own path).
 * @example const { session, actor, db } = await requirePermission('users.view', '/admin/users');
 */
export async function requirePermission(permission: Permission, returnTo = '/admin'): Promise<AdminContext> {
  const { session } = await requirePageAccess('portal', returnTo);
  if (!can(session.role, permission)) forbidden();
  const db = (await getDb()).kysely;
  const freshness = { now: systemClock.now(), maxAgeMs: (await loadAdminReverifyMinutes(db)) * 60_000 };
  // The factor lookup is skipped only when the verdict is 'ok' whatever it says.
  const passes = adminVerdict(session, true, freshness) === 'ok';
  const verdict = adminVerdict(session, passes || (await factorTypesOfUser(db, session.userId)).length > 0, freshness);
  switch (verdict) {
    case 'forbidden':
      forbidden();
    case 'enroll':
      redirect(adminEnrollPath(returnTo));
    case 'verify':
      redirect(adminVerifyPath(returnTo));
    case 'ok':
      break;
  }
  const { ip } = (await getAccessContext()).client;
  return { session, db, actor: { id: session.userId, label: session.username, clientIp: ip } };
}
