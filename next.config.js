/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native and server-only packages stay out of the bundles (middleware included).
  serverExternalPackages: ['better-sqlite3', 'pg', '@node-rs/argon2', 'nodemailer'],
  poweredByHeader: false,
  // Tests, benches and scripts are type-checked by `npm run typecheck`, not by the build.
  typescript: { tsconfigPath: 'tsconfig.next.json' },
  reactStrictMode: true,
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
          { key: 'Cache-Control', value: 'no-store' },
        ],
      },
    ];
  },
};

module.exports = nextConfig;
