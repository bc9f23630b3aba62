const securityHeaders = require('./lib/http/security-headers.cjs');

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native and server-only packages stay out of the bundles (middleware included). otplib
  // too: its base32 dependency calls the deprecated Buffer(), which Node reports once on
  // stderr unless the call comes from node_modules. prom-client: one copy for the whole
  // process, not one per bundle (the registry itself is a process singleton, lib/metrics).
  serverExternalPackages: ['better-sqlite3', 'pg', '@node-rs/argon2', 'nodemailer', 'pino', 'pino-pretty', 'otplib', 'prom-client'],
  poweredByHeader: false,
  // Type errors fail `npm test` (its typecheck stage runs `tsc --noEmit` over app, tests and
  // benches together), so the build itself doesn't repeat the check.
  typescript: { tsconfigPath: 'tsconfig.next.json', ignoreBuildErrors: true },
  reactStrictMode: true,
  // forbidden() in the admin console answers 403 with app/admin/forbidden.tsx (lib/admin/console-guard.ts).
  experimental: { authInterrupts: true },
  async headers() {
    return [
      {
        source: '/:path*',
        headers: securityHeaders.map((h) => ({ ...h })),
      },
      // The address a set-password link opens (with its token): never sent on in a Referer
      // (the later entry wins for the same header). Only there: the page it redirects to has
      // no token in its address, and a document with no-referrer makes Chromium send
      // `Origin: null` on every later form post from that tab (it keeps the policy across
      // client-side navigations), which the same-origin checks refuse (the sign-in form).
      {
        source: '/account/password',
        headers: [{ key: 'Referrer-Policy', value: 'no-referrer' }],
      },
    ];
  },
};

module.exports = nextConfig;
