import { defineConfig } from '@playwright/test';

// End-to-end specs: each spec file starts its own portal with test/e2e/support/server.ts,
// so there is no webServer block. One worker by default: on a 2-core machine a Next server
// per spec file is heavy enough (scripts/test.sh gives the SQLite pass two, see there). The browser is Debian's Chromium (no Playwright browser downloads
// here); CHROMIUM_PATH points elsewhere if needed.
// scripts/test.sh sets PORTCULLIS_E2E_JSON to a file path to get a JSON report it can count.
const jsonReport = process.env.PORTCULLIS_E2E_JSON;

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  forbidOnly: !!process.env.CI,
  reporter: jsonReport ? [['list'], ['json', { outputFile: jsonReport }]] : [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
    trace: 'retain-on-failure',
  },
});
