import type { ReactNode } from 'react';
import { connection } from 'next/server';
import './globals.css';

export const metadata = {
  title: 'Portcullis',
  // public/favicon.svg; public/favicon.ico stays for clients that ask /favicon.ico unprompted.
  icons: { icon: [{ url: '/favicon.svg', type: 'image/svg+xml' }, { url: '/favicon.ico', sizes: '32x32' }] },
};

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
