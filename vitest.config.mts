import { defineConfig } from 'vitest/config';
import path from 'node:path';

// Playwright specs live in test/e2e and are never collected here.
export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most of a run is waiting on databases and child processes (a third of two cores busy
    // with one worker per core); four workers took the suite from 345 s to 257 s here.
    maxWorkers: 4,
  },
});
