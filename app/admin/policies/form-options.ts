import type { BrowserFamily, OsFamily, PolicyAction } from '../../../lib/policy';

/** Labels for the policy form (R-C1..R-C5). Pure data: the client form imports it too. */

export const osLabels: Record<OsFamily, string> = {
  windows: 'Windows',
  macos: 'macOS',
  ios: 'iOS',
  android: 'Android',
  linux: 'Linux',
  chromeos: 'ChromeOS',
  other: 'Other',
};

export const browserLabels: Record<BrowserFamily, string> = {
  chrome: 'Chrome',
  edge: 'Edge',
  firefox: 'Firefox',
  safari: 'Safari',
  opera: 'Opera',
  other: 'Other',
};

export const actionLabels: Record<PolicyAction, string> = {
  allow: 'Allow',
  require_mfa: 'Allow with Require MFA',
  deny: 'Deny',
};
