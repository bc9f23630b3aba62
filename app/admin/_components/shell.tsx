import type { ReactNode } from 'react';
import type { SessionContext } from '../../../lib/auth/sessions';
import { SignOutButton } from '../../_components/sign-out';

const sections = [
  { href: '/admin', label: 'Overview' },
  { href: '/admin/users', label: 'Users' },
  { href: '/admin/groups', label: 'Groups' },
  { href: '/admin/policies', label: 'Policies' },
  { href: '/admin/settings', label: 'MFA settings' },
  { href: '/admin/audit', label: 'Audit log' },
  { href: '/admin/outbox', label: 'Email outbox' },
  { href: '/admin/api-keys', label: 'API keys' },
] as const;

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
            {sections.map((s) => (
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
