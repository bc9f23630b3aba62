import type { ReactNode } from 'react';
import type { SessionContext } from '../../../lib/auth/sessions';
import { can, type Permission } from '../../../lib/admin/permissions';
import { SignOutButton } from '../../_components/sign-out';

/** Each section with the permission its page asks for: the navigation shows only what the role may open. */
const sections = [
  { href: '/admin', label: 'Overview', permission: 'console.open' },
  { href: '/admin/users', label: 'Users', permission: 'users.view' },
  { href: '/admin/groups', label: 'Groups', permission: 'groups.view' },
  { href: '/admin/policies', label: 'Policies', permission: 'policies.view' },
  { href: '/admin/settings', label: 'MFA settings', permission: 'settings.view' },
  { href: '/admin/audit', label: 'Audit log', permission: 'audit.view' },
  { href: '/admin/outbox', label: 'Email outbox', permission: 'outbox.view' },
  { href: '/admin/api-keys', label: 'API keys', permission: 'api_keys.manage' },
] as const satisfies readonly { href: string; label: string; permission: Permission }[];

/** The sections `role` may open, in order. */
export function sectionsFor(role: string) {
  return sections.filter((s) => can(role, s.permission));
}

/**
 * The console frame: navigation, the signed-in admin with a way out, then the page's
 * <main> (the skip link's target, past the navigation) with its heading.
 */
export function AdminShell({
  title,
  session,
  current,
  children,
}: {
  title: string;
  session: SessionContext;
  current: (typeof sections)[number]['href'];
  children: ReactNode;
}) {
  return (
    <div className="card wide admin">
      <header className="admin-header">
        <nav aria-label="Admin console">
          <ul>
            {sectionsFor(session.role).map((s) => (
              <li key={s.href}>
                <a href={s.href} aria-current={s.href === current ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="admin-who">
          <p>
            Signed in as <strong>{session.username}</strong> · <a href="/portal">User Portal</a>
          </p>
          <SignOutButton />
        </div>
      </header>
      <main id="main">
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}
