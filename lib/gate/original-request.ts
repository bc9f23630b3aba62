/**
 * The request a reverse proxy asks about, read from the headers it sends with its
 * subrequest: Traefik's ForwardAuth and Caddy's forward_auth send X-Forwarded-Method,
 * -Proto, -Host and -Uri; nginx's auth_request is configured to send X-Original-URL and
 * X-Original-Method. Pure: no environment, no I/O.
 *
 * Only the shape is checked here: printable ASCII, bounded lengths, a real absolute
 * http(s) URL whose host is a plain `host[:port]`. Odd path encodings (`%2e%2e`, `%2f`,
 * double encoding, backslashes) are left for the path matcher, which matches nothing it
 * cannot normalize, so they end in a denial rather than in a 400 an attacker could probe.
 * These headers count only from a trusted proxy: the entry server drops them otherwise
 * (scripts/client-address.mjs), and then they are simply missing here.
 */
import { normalizeHost } from './host-routes';

export interface OriginalRequest {
  /** Upper-case method token, e.g. `GET`. */
  method: string;
  /** The original absolute URL, as the WHATWG parser reads it. */
  url: URL;
  /**
   * The path exactly as the proxy sent it (before the URL parser resolved dot segments and
   * backslashes): the matcher must agree on both readings, or nothing matches.
   */
  rawPath: string;
}

export type OriginalRequestResult = { ok: true; request: OriginalRequest } | { ok: false; problem: string };

interface HeaderReader {
  get(name: string): string | null;
}

export const maxUriLength = 4096;
const maxHostLength = 260;
// Visible ASCII only: no spaces, no controls, nothing a header parser could split on.
const visibleAscii = /^[\x21-\x7e]+$/;
const methodToken = /^[A-Za-z]{1,20}$/;

const bad = (problem: string): OriginalRequestResult => ({ ok: false, problem });

function required(headers: HeaderReader, name: string, maxLength: number): string | OriginalRequestResult {
  const value = headers.get(name);
  if (value === null || value.trim() === '') return bad(`Missing ${name} header.`);
  const trimmed = value.trim();
  if (trimmed.length > maxLength) return bad(`${name} is too long (at most ${maxLength} characters).`);
  if (!visibleAscii.test(trimmed)) return bad(`${name} has characters a URL cannot have.`);
  return trimmed;
}

function methodOf(headers: HeaderReader, name: string): string | OriginalRequestResult {
  const value = required(headers, name, 20);
  if (typeof value !== 'string') return value;
  if (!methodToken.test(value)) return bad(`${name} is not an HTTP method.`);
  return value.toUpperCase();
}

/** The path part of a path-and-query (`/a/b?x#y` → `/a/b`). */
function pathOf(pathAndQuery: string): string {
  const end = pathAndQuery.search(/[?#]/);
  return end === -1 ? pathAndQuery : pathAndQuery.slice(0, end);
}

/** Builds the URL from parts already checked, and insists the parser kept the host we read. */
function absolute(method: string, scheme: string, host: string, pathAndQuery: string, header: string): OriginalRequestResult {
  let url: URL;
  try {
    url = new URL(`${scheme}://${host}${pathAndQuery}`);
  } catch {
    return bad(`${header} does not make a valid URL.`);
  }
  // A default port is dropped by the parser (`:443` on https); compare without it then.
  const parsedHost = normalizeHost(url.host);
  const expected = url.port === '' ? host.replace(/:\d+$/, '') : host;
  if (parsedHost !== expected || url.username !== '' || url.password !== '') return bad(`${header} does not make a valid URL.`);
  return { ok: true, request: { method, url, rawPath: pathOf(pathAndQuery) } };
}

/**
 * Traefik / Caddy style: X-Forwarded-Method, -Proto, -Host, -Uri. Each must be there.
 * @example readForwardedRequest(request.headers) // { ok: true, request: { method: 'GET', url, rawPath } }
 */
export function readForwardedRequest(headers: HeaderReader): OriginalRequestResult {
  const method = methodOf(headers, 'X-Forwarded-Method');
  if (typeof method !== 'string') return method;
  const proto = required(headers, 'X-Forwarded-Proto', 16);
  if (typeof proto !== 'string') return proto;
  const scheme = proto.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return bad('X-Forwarded-Proto is neither http nor https.');
  const rawHost = required(headers, 'X-Forwarded-Host', maxHostLength);
  if (typeof rawHost !== 'string') return rawHost;
  // normalizeHost refuses user info (`user@host`), lists (`a,b`), brackets and stray ports.
  const host = normalizeHost(rawHost);
  if (host === null) return bad('X-Forwarded-Host is not a host name.');
  const uri = required(headers, 'X-Forwarded-Uri', maxUriLength);
  if (typeof uri !== 'string') return uri;
  // A path, never a URL of its own: `//evil/x`, `/\evil` and `http://evil` would move the host.
  if (!uri.startsWith('/') || uri.startsWith('//') || uri.startsWith('/\\')) return bad('X-Forwarded-Uri is not a path.');
  return absolute(method, scheme, host, uri, 'X-Forwarded-Uri');
}

/**
 * nginx style: X-Original-URL (absolute http(s) URL) and X-Original-Method.
 * @example readOriginalUrlRequest(request.headers)
 */
export function readOriginalUrlRequest(headers: HeaderReader): OriginalRequestResult {
  const method = methodOf(headers, 'X-Original-Method');
  if (typeof method !== 'string') return method;
  const original = required(headers, 'X-Original-URL', maxUriLength + maxHostLength + 8);
  if (typeof original !== 'string') return original;
  const scheme = /^(https?):\/\//i.exec(original);
  if (!scheme) return bad('X-Original-URL is not an absolute http(s) URL.');
  const rest = original.slice(scheme[0].length);
  // The authority ends at the first `/`, `?` or `#`; a `\` or `@` in it is a parser trick.
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  if (authority.includes('\\') || authority.includes('@')) return bad('X-Original-URL does not name a plain host.');
  const host = normalizeHost(authority);
  if (host === null) return bad('X-Original-URL does not name a plain host.');
  let pathAndQuery = authorityEnd === -1 ? '/' : rest.slice(authorityEnd);
  if (!pathAndQuery.startsWith('/')) pathAndQuery = `/${pathAndQuery}`;
  return absolute(method, scheme[1].toLowerCase(), host, pathAndQuery, 'X-Original-URL');
}
