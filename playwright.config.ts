import fs from 'node:fs';
import { defineConfig } from '@playwright/test';

// End-to-end specs: each spec file starts its own portal with test/e2e/support/server.ts,
// so there is no webServer block. One worker by default: on a 2-core machine a Next server
// per spec file is heavy enough (scripts/test.sh gives the SQLite pass two, see there).
//
// The browser is Debian's (no Playwright browser downloads here): chromium-headless-shell
// when installed, else the full chromium; CHROMIUM_PATH picks another. The shell is what
// Playwright itself runs headless, and it is much lighter: on two specs (password-reset and
// lost-device) the browser took 82 of the run's 105 CPU seconds under full Chromium, and 42 of
// 66 under the shell.
//
// Traces are off unless PW_TRACE names a mode (e.g. PW_TRACE=retain-on-failure): recording
// them, screenshots above all, cost another 20 of those 66 CPU seconds on every passing test,
// and CI's two cores are what bounds its e2e time. A failure still leaves error-context.md
// (the page's ARIA snapshot) and the server log's tail.
// scripts/test.sh sets PORTCULLIS_E2E_JSON to a file path to get a JSON report it can count.
const jsonReport = process.env.PORTCULLIS_E2E_JSON;
const browserPath =
  process.env.CHROMIUM_PATH || ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((p) => fs.existsSync(p)) || '/usr/bin/chromium';
type TraceMode = 'off' | 'on' | 'retain-on-failure' | 'on-first-retry' | 'retain-on-first-failure';
const traceMode = (process.env.PW_TRACE || 'off') as TraceMode;

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
      executablePath: browserPath,
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
    trace: traceMode,
  },
});
