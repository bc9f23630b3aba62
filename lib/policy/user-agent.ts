import type { BrowserFamily, OsFamily } from './types';

/**
 * Families for R-C3 os/browser conditions. The User-Agent header is whatever the client
 * says, so these conditions narrow a policy for convenience; they are never a security
 * boundary on their own.
 *
 * Order matters because UAs impersonate each other: Edge and Opera say "Chrome", Chrome
 * says "Safari", iPhones say "like Mac OS X", Android says "Linux", ChromeOS says "X11".
 */

// Real UAs are a few hundred characters; anything longer is not worth scanning.
const MAX_UA_LENGTH = 1024;

function osOf(ua: string): OsFamily {
  if (ua.includes('CrOS')) return 'chromeos';
  if (ua.includes('iPhone') || ua.includes('iPad') || ua.includes('iPod')) return 'ios';
  if (ua.includes('Android')) return 'android';
  if (ua.includes('Windows')) return 'windows';
  if (ua.includes('Macintosh') || ua.includes('Mac OS X')) return 'macos';
  if (ua.includes('Linux') || ua.includes('X11')) return 'linux';
  return 'other';
}

function browserOf(ua: string): BrowserFamily {
  if (ua.includes('Edg/') || ua.includes('Edge/') || ua.includes('EdgA/') || ua.includes('EdgiOS/')) return 'edge';
  if (ua.includes('OPR/') || ua.includes('Opera')) return 'opera';
  if (ua.includes('Firefox/') || ua.includes('FxiOS/')) return 'firefox';
  if (ua.includes('Chrome/') || ua.includes('CriOS/') || ua.includes('Chromium/')) return 'chrome';
  if (ua.includes('Safari/')) return 'safari';
  return 'other';
}

export function parseUserAgent(ua: string): { os: OsFamily; browser: BrowserFamily } {
  if (typeof ua !== 'string' || ua.length === 0) return { os: 'other', browser: 'other' };
  const s = ua.length > MAX_UA_LENGTH ? ua.slice(0, MAX_UA_LENGTH) : ua;
  return { os: osOf(s), browser: browserOf(s) };
}
