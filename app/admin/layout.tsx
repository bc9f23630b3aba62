import type { ReactNode } from 'react';
import './admin.css';

export const metadata = { title: 'Portcullis admin' };

// NOTE: no access check here on purpose: layouts are not re-run for every request path,
// so every page and server action calls requireAdmin() itself (R-D9).
export default function AdminLayout({ children }: { children: ReactNode }) {
  return children;
}
