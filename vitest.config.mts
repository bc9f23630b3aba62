import { defineConfig } from 'vitest/config';
import path from 'node:path';

// Test files that change process.env, mock or reset modules, or use the process-wide
// database and singletons (getDb, processSingleton): each runs in a fresh module graph.
// Every other file shares its worker's modules with the files before it (isolate: false),
// which took the suite from ~390 s to ~230 s here: importing the app's modules again for
// each of ~90 files was most of the run's CPU. A new test that touches process-wide state
// belongs in this list.
const isolatedFiles = [
  'test/integration/admin/password-reset.test.ts',
  'test/integration/api/auth-and-limits.test.ts',
  'test/integration/api/helpdesk.test.ts',
  'test/integration/auth/login-route.test.ts',
  'test/integration/auth/password-libuv.test.ts',
  'test/integration/auth/password-reset-request.test.ts',
  'test/integration/db/dialect.test.ts',
  'test/integration/gate/entry-gate.test.ts',
  'test/integration/gate/entry-server.test.ts',
  'test/integration/gate/forward-auth.test.ts',
  'test/integration/http/graceful-shutdown.test.ts',
  'test/integration/http/metrics.test.ts',
  'test/integration/http/readiness.test.ts',
  'test/integration/mail/concurrency.test.ts',
  'test/integration/mail/delivery.test.ts',
  'test/integration/mail/scheduler.test.ts',
  'test/integration/proxies/caddyfile.test.ts',
  'test/unit/auth/session-cookie-attributes.test.ts',
  'test/unit/auth/session-cookie.test.ts',
  'test/unit/config/secret-rotation.test.ts',
  'test/unit/errors/brand.test.ts',
  'test/unit/factors/duo.test.ts',
  'test/unit/factors/webauthn.test.ts',
  'test/unit/gate/host-routes.test.ts',
  'test/unit/gate/return-targets.test.ts',
  'test/unit/log/redaction.test.ts',
  'test/unit/mail/config.test.ts',
  'test/unit/mail/server-worker.test.ts',
  'test/unit/metrics/registry.test.ts',
  'test/unit/process-singletons.test.ts',
  'test/unit/remote/remote-gate.test.ts',
];

// Playwright specs live in test/e2e and are never collected here.
export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    environment: 'node',
    // Bundles the operator's CLI once for the suites that run it (test/integration/support/cli.ts).
    globalSetup: ['test/integration/support/cli-bundle-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most of a run is waiting on databases and child processes (a third of two cores busy
    // with one worker per core); four workers took the suite from 345 s to 257 s here.
    maxWorkers: 4,
    projects: [
      {
        extends: true,
        test: { name: 'isolated', include: isolatedFiles, isolate: true },
      },
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          exclude: ['test/e2e/**', 'node_modules/**', ...isolatedFiles],
          isolate: false,
        },
      },
    ],
  },
});
