import type { BrowserFamily, OsFamily, PolicyAction } from '../../../lib/policy';
import { portalResources } from '../../../portcullis.config';

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

/** R-C4: the User Portal and the app resources this deployment declares (portcullis.config.ts). */
export function resourceOptions(): { value: string; label: string }[] {
  const byId = new Map<string, string[]>();
  for (const r of portalResources) byId.set(r.resource, [...(byId.get(r.resource) ?? []), r.prefix]);
  byId.delete('portal');
  return [
    { value: 'portal', label: 'User Portal' },
    ...[...byId].map(([id, prefixes]) => ({ value: id, label: `${id} (${prefixes.join(', ')})` })),
  ];
}
