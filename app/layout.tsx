import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { connection } from 'next/server';
import { SkipLink } from './_components/skip-link';
import './globals.css';

export const metadata: Metadata = {
  // Every page names itself ("Security · Portcullis"); the console's layout has its own template.
  title: { default: 'Portcullis', template: '%s · Portcullis' },
  // public/favicon.svg; public/favicon.ico stays for clients that ask /favicon.ico unprompted.
  icons: { icon: [{ url: '/favicon.svg', type: 'image/svg+xml' }, { url: '/favicon.ico', sizes: '32x32' }] },
};

/**
 * Every page brings its own single <main id="main"> (the console's through AdminShell), so
 * the skip link always has a target and a page never nests a second main.
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page renders per request: Next.js puts the gate's per-request CSP nonce on its
  // scripts only when it renders, never into prerendered HTML (lib/http/csp.ts).
  await connection();
  return (
    <html lang="en">
      <body>
        <SkipLink />
        {children}
      </body>
    </html>
  );
}
