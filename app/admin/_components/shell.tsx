import type { ReactNode } from 'react';
import type { SessionContext } from '../../../lib/auth/sessions';

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

/** The console frame: navigation, the signed-in admin, the page heading. */
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
    <main className="wide admin">
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
        <p className="admin-who">
          Signed in as <strong>{session.username}</strong> · <a href="/portal">User Portal</a>
        </p>
      </header>
      <h1>{title}</h1>
      {children}
    </main>
  );
}
