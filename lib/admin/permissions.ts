/**
 * Who may do what in the admin console and the API (issue 18 part 7): one table, pure.
 * Console pages and server actions ask requirePermission() (lib/admin/console-guard.ts),
 * API routes name their permission in lib/api/routes.ts; both end in can() below.
 *
 * Roles: a person's `users.role` (user, helpdesk, admin) or an API key's `api_keys.role`
 * (read, helpdesk, admin). Least privilege: a permission not listed for a role is refused,
 * and an unknown role has none.
 *
 * helpdesk: views users and their MFA status, resets TOTP, unlocks sign-in, revokes
 * sessions (and forgets remembered devices), sends invitations and password resets. Nothing else: not the CSV export (a whole
 * directory in one file is not a ticket's need), not groups, policies, settings, the audit
 * log, the outbox or API keys, and no user's state, profile, requirement, factors or role.
 */

export const personRoles = ['user', 'helpdesk', 'admin'] as const;
export const apiKeyRoles = ['read', 'helpdesk', 'admin'] as const;
export type PersonRole = (typeof personRoles)[number];
export type ApiKeyRole = (typeof apiKeyRoles)[number];
export type Role = PersonRole | ApiKeyRole;
export const allRoles: readonly Role[] = ['user', 'read', 'helpdesk', 'admin'];

const staff = ['helpdesk', 'admin'] as const;
const readers = ['read', 'helpdesk', 'admin'] as const;
const admins = ['admin'] as const;
/** Reads of everything but users: read keys and admins, not helpdesk. */
const auditors = ['read', 'admin'] as const;

export const permissionTable = {
  /** The console's front page (counts by MFA status). */
  'console.open': staff,
  /** The users list with its filters, a user's page, GET /users and /users/{id}. */
  'users.view': readers,
  /** The users list as CSV. */
  'users.export': admins,
  'users.reset_totp': staff,
  'users.unlock': staff,
  'users.revoke_sessions': staff,
  /** Issue 18 part 3: forgetting a user's remembered devices, like revoking sessions. */
  'users.forget_devices': staff,
  'users.send_invitation': staff,
  'users.send_password_reset': staff,
  'users.create': admins,
  /** State (activate, suspend), profile, the per-user MFA requirement, one or many users. */
  'users.edit': admins,
  /** Removing one factor (a lost security key): a change the helpdesk list does not name. */
  'users.remove_factor': admins,
  'users.change_role': admins,
  'groups.view': auditors,
  'groups.manage': admins,
  'policies.view': auditors,
  'policies.manage': admins,
  /**
   * "What if" (issue 18 §4): writes nothing, but reads any user's groups and factors with
   * the policies, and probes the gate at will: admins only.
   */
  'policies.what_if': admins,
  'settings.view': auditors,
  'settings.manage': admins,
  'audit.view': auditors,
  'outbox.view': auditors,
  'outbox.resend': admins,
  /** Keys are console-only: the API never lists or makes keys. */
  'api_keys.manage': admins,
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissionTable;
export const permissions = Object.keys(permissionTable) as Permission[];

/** Whether `role` may do `permission`; false for any role or permission not in the table. */
export function can(role: string, permission: Permission): boolean {
  if (!Object.hasOwn(permissionTable, permission)) return false;
  return (permissionTable[permission] as readonly string[]).includes(role);
}

/** People who may open the console at all (its front page): helpdesk and admin. */
export function mayOpenConsole(role: string): boolean {
  return can(role, 'console.open');
}
