import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import './admin.css';

export const metadata: Metadata = {
  // absolute: the portal's template would otherwise make this "Portcullis admin · Portcullis".
  title: { absolute: 'Portcullis admin', template: '%s · Portcullis admin' },
};

// NOTE: no access check here on purpose: layouts are not re-run for every request path,
// so every page and server action calls requirePermission() itself (R-D9).
export default function AdminLayout({ children }: { children: ReactNode }) {
  return children;
}
