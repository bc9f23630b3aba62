/**
 * The portal's Content-Security-Policy, so an injected script can't run, built from a per-request nonce.
 * Pure: no I/O, no randomness here; the gate makes the nonce (newCspNonce) and hands it to
 * Next.js in the request's own CSP header, from which Next.js reads it for its scripts.
 */

export interface CspOptions {
  /** This request's nonce (base64, from newCspNonce()). */
  nonce: string;
  /**
   * Extra hosts forms may post (or be redirected) to, e.g. the Duo API host on the pages
   * that start a Duo prompt. Hosts that are not plain `host[:port]` are left out. @default []
   */
  formActionHosts?: readonly string[];
  /**
   * Extra origins forms may be redirected to, as CSP sources (`scheme://host[:port|:*]`):
   * Chromium applies form-action to the redirect after a form post, and the sign-in,
   * verify and Set Up forms are redirected to the return target on an app's host (R-D12).
   * Anything not of that shape is left out. @default []
   */
  formActionSources?: readonly string[];
}

const hostPattern = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::\d{1,5})?$/i;
const sourcePattern = /^https?:\/\/[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::(?:\d{1,5}|\*))?$/;
const noncePattern = /^[A-Za-z0-9+/]{16,}={0,2}$/;

/**
 * A fresh nonce: the 122 random bits of a v4 UUID, as 16 bytes of base64. randomUUID() draws
 * from a pooled buffer; getRandomValues() for 16 bytes cost ~25 µs per request here.
 */
export function newCspNonce(): string {
  return Buffer.from(crypto.randomUUID().replace(/-/g, ''), 'hex').toString('base64');
}

/**
 * The header value. Scripts run only with this request's nonce ('strict-dynamic' lets the
 * scripts Next.js loads load their chunks), never 'unsafe-inline'.
 *
 * NOTE: style-src-attr keeps 'unsafe-inline' for server-rendered React `style={…}` props
 * (the recovery codes, Set Up and security pages use a few) and the plain 503 page;
 * `<style>` elements still need the nonce.
 *
 * @example contentSecurityPolicy({ nonce, formActionHosts: ['api-1234.duosecurity.com'] })
 */
export function contentSecurityPolicy(options: CspOptions): string {
  if (!noncePattern.test(options.nonce)) throw new Error('CSP nonce must be base64 of at least 12 bytes');
  const formHosts = (options.formActionHosts ?? []).filter((host) => hostPattern.test(host)).map((host) => `https://${host.toLowerCase()}`);
  const formSources = (options.formActionSources ?? []).map((source) => source.toLowerCase()).filter((source) => sourcePattern.test(source));
  const nonce = `'nonce-${options.nonce}'`;
  const directives: Array<[string, ...string[]]> = [
    ['default-src', "'self'"],
    ['script-src', "'self'", nonce, "'strict-dynamic'"],
    ['style-src', "'self'", nonce],
    ['style-src-attr', "'unsafe-inline'"],
    ['img-src', "'self'", 'data:', 'blob:'],
    ['font-src', "'self'"],
    ['connect-src', "'self'"],
    ['object-src', "'none'"],
    ['base-uri', "'none'"],
    ['form-action', "'self'", ...formHosts, ...formSources],
    ['frame-ancestors', "'none'"],
  ];
  return directives.map((parts) => parts.join(' ')).join('; ');
}

