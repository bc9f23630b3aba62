import type { ReactNode } from 'react';
import { connection } from 'next/server';
import './globals.css';

export const metadata = { title: 'Portcullis' };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page renders per request: Next.js puts the gate's per-request CSP nonce on its
  // scripts only when it renders, never into prerendered HTML (lib/http/csp.ts).
  await connection();
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
