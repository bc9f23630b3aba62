import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allRoles, can, mayOpenConsole, permissions, permissionTable, type Permission, type Role } from '../../../lib/admin/permissions';

/*
 * Who may do what (issue 18 part 7), written out here on its own, cell by cell, so a change
 * to the table is a change to this specification too.
 *
 *   Una, a user (no console, no API key has her role)
 *   Rex, a read-only API key ("dashboards")
 *   Hal, from the helpdesk (a person or a key with the helpdesk role)
 *   Ada, an admin
 */
const Y = true;
const n = false;
//                                      user  read  helpdesk admin
const expected: Record<Permission, [boolean, boolean, boolean, boolean]> = {
  'console.open': /*                  */ [n, n, Y, Y],
  'users.view': /*                    */ [n, Y, Y, Y],
  'users.export': /*                  */ [n, n, n, Y],
  'users.reset_totp': /*              */ [n, n, Y, Y],
  'users.unlock': /*                  */ [n, n, Y, Y],
  'users.revoke_sessions': /*         */ [n, n, Y, Y],
  'users.forget_devices': /*          */ [n, n, Y, Y],
  'users.send_invitation': /*         */ [n, n, Y, Y],
  'users.send_password_reset': /*     */ [n, n, Y, Y],
  'users.create': /*                  */ [n, n, n, Y],
  'users.edit': /*                    */ [n, n, n, Y],
  'users.remove_factor': /*           */ [n, n, n, Y],
  'users.change_role': /*             */ [n, n, n, Y],
  'groups.view': /*                   */ [n, Y, n, Y],
  'groups.manage': /*                 */ [n, n, n, Y],
  'policies.view': /*                 */ [n, Y, n, Y],
  'policies.manage': /*               */ [n, n, n, Y],
  'policies.what_if': /*              */ [n, n, n, Y],
  'settings.view': /*                 */ [n, Y, n, Y],
  'settings.manage': /*               */ [n, n, n, Y],
  'audit.view': /*                    */ [n, Y, n, Y],
  'outbox.view': /*                   */ [n, Y, n, Y],
  'outbox.resend': /*                 */ [n, n, n, Y],
  'api_keys.manage': /*               */ [n, n, n, Y],
};
const columns: Role[] = ['user', 'read', 'helpdesk', 'admin'];

describe('the permission table', () => {
  it('has a row here for every permission it knows, and no other', () => {
    expect(Object.keys(expected).sort()).toEqual([...permissions].sort());
    expect([...allRoles].sort()).toEqual([...columns].sort());
  });

  const cells = permissions.flatMap((permission) => columns.map((role, i) => ({ permission, role, allowed: expected[permission][i]! })));
  it.each(cells)('$role → $permission: $allowed', ({ permission, role, allowed }) => {
    expect(can(role, permission)).toBe(allowed);
  });

  it('gives Hal exactly the helpdesk tasks: view users, reset TOTP, unlock, revoke sessions (and forget remembered devices), invitations, password resets', () => {
    expect(permissions.filter((p) => can('helpdesk', p)).sort()).toEqual(
      [
        'console.open',
        'users.view',
        'users.reset_totp',
        'users.unlock',
        'users.revoke_sessions',
        'users.forget_devices',
        'users.send_invitation',
        'users.send_password_reset',
      ].sort(),
    );
  });

  it('never lets anyone but Ada change policies, settings, API keys, roles or groups', () => {
    for (const p of ['policies.manage', 'settings.manage', 'api_keys.manage', 'users.change_role', 'groups.manage'] as const) {
      expect(permissionTable[p]).toEqual(['admin']);
    }
  });

  it('lets Hal and Ada open the console, and not Una or a key role', () => {
    expect(['user', 'read', 'helpdesk', 'admin'].map(mayOpenConsole)).toEqual([false, false, true, true]);
  });

  it('refuses any role it does not know, and any permission it does not know (fail closed)', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom(...permissions), (role, permission) => {
        if ((allRoles as readonly string[]).includes(role)) return;
        expect(can(role, permission)).toBe(false);
      }),
    );
    for (const odd of ['', 'Admin', 'admin ', 'toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      expect(can('admin', odd as Permission), odd).toBe(false);
      expect(can(odd, 'users.view'), odd).toBe(false);
    }
  });

  it('gives Ada every permission, and whatever Hal or Rex may do Ada may too', () => {
    fc.assert(
      fc.property(fc.constantFrom(...permissions), fc.constantFrom<Role>('user', 'read', 'helpdesk'), (permission, role) => {
        expect(can('admin', permission)).toBe(true);
        if (can(role, permission)) expect(can('admin', permission)).toBe(true);
      }),
    );
  });
});
