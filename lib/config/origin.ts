/**
 * PORTCULLIS_ORIGIN: the portal's public origin, scheme, host and port only. Every link in
 * an email, the WebAuthn relying party, the cookies' Secure flag and the return-target
 * checks start from it, and the app reads it as written (lib/config/env.ts, only a trailing
 * slash dropped), so anything beyond an origin, or an origin written in another form than
 * the one browsers send, is refused here rather than compared wrongly later.
 *
 * @returns the origin, e.g. `https://portal.example.com`
 * @throws Error naming the variable and what is wrong
 * @example parseOrigin('https://portal.example.com/') // 'https://portal.example.com'
 */
export function parseOrigin(raw: string): string {
  const refuse = (why: string) => new Error(`PORTCULLIS_ORIGIN must be an http(s) origin such as https://portal.example.com${why}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse(': this is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse(`, not ${url.protocol.replace(/:$/, '')}:`);
  if (url.username !== '' || url.password !== '' || /^[a-z][a-z0-9+.-]*:\/*[^/]*@/i.test(raw.trim())) throw refuse(', without user info');
  if (raw.includes('?')) throw refuse(', without a query');
  if (raw.includes('#')) throw refuse(', without a fragment');
  if (url.pathname !== '/') throw refuse(', without a path');
  // As written, less one trailing slash, is what the app uses (lib/config/env.ts).
  if (raw.replace(/\/$/, '') !== url.origin) throw new Error(`PORTCULLIS_ORIGIN must be written as ${url.origin} (lower case, no default port, no spaces)`);
  return url.origin;
}
