import config from '../../../playwright.config';

/**
 * The browser of playwright.config.ts, resolving every `*.example.test` name to this machine:
 * `portal.example.test`, `app.example.test` and the like are distinct sites for Chromium that
 * share cookies on the parent domain `example.test`. Use as `test.use({ launchOptions: exampleHostsLaunchOptions })`.
 */
const launch = config.use?.launchOptions ?? {};
export const exampleHostsLaunchOptions = {
  ...launch,
  args: [...(launch.args ?? []), '--host-resolver-rules=MAP *.example.test 127.0.0.1'],
};
