// R-I1, kept free of Next.js so it can be unit-tested: which address is the client's.
import { isIP } from 'node:net';

/**
 * "2" → trust that many proxy hops; "10.0.0.1, 10.0.0.2" → trust those proxy addresses.
 * Strict: an entry that is not an IP address (a host name, a CIDR range, a typo, an empty
 * entry) refuses the whole list, naming it, rather than trusting the rest of it: a list read
 * in half would silently distrust a real proxy, or trust the wrong hop.
 * @throws Error naming PORTCULLIS_TRUSTED_PROXIES and the entry
 */
export function parseTrustedProxies(value) {
  if (!value || !value.trim()) return { kind: 'none' };
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const hops = Number(trimmed);
    if (hops < 1 || hops > 10) throw new Error('PORTCULLIS_TRUSTED_PROXIES hop count must be 1–10');
    return { kind: 'hops', hops };
  }
  const addresses = new Set();
  for (const entry of trimmed.split(',').map((a) => a.trim())) {
    if (entry === '') throw new Error('PORTCULLIS_TRUSTED_PROXIES has an empty entry: give a hop count (1) or addresses separated by single commas');
    const address = normalizeAddress(entry);
    if (isIP(address) === 0) {
      throw new Error(`PORTCULLIS_TRUSTED_PROXIES: "${entry.slice(0, 64)}" is not an IP address (give a hop count, or proxy addresses separated by commas)`);
    }
    addresses.add(address);
  }
  return { kind: 'addresses', addresses };
}

export function normalizeAddress(address) {
  if (!address) return '';
  const a = address.trim().toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function forwardedList(header) {
  const raw = Array.isArray(header) ? header.join(',') : header || '';
  return raw
    .split(',')
    .map((h) => normalizeAddress(h))
    .filter((h) => h.length > 0 && h.length <= 64 && /^[0-9a-f:.]+$/.test(h));
}

/**
 * The socket peer, unless the peer is a trusted proxy; then X-Forwarded-For is read from
 * the right, only as far as trusted hops reach. Entries a client wrote itself sit to the
 * left of anything a trusted proxy appended, so they are never reached.
 */
export function clientAddress(peer, forwardedFor, trusted) {
  const socketAddress = normalizeAddress(peer) || 'unknown';
  if (trusted.kind === 'none') return socketAddress;
  const hops = forwardedList(forwardedFor);
  if (trusted.kind === 'hops') {
    // Each trusted hop appended the address it saw; the client is the one the outermost saw.
    return hops.length >= trusted.hops ? hops[hops.length - trusted.hops] : socketAddress;
  }
  let current = socketAddress;
  while (trusted.addresses.has(current) && hops.length > 0) current = hops.pop();
  return current;
}

/**
 * Headers that say where the request was addressed (host, scheme, port, and for the
 * forward-auth endpoints the original method and URL). Next.js reads the first ones for the
 * server actions' origin check and for request URLs; the forward-auth endpoints decide on
 * the others. Only a trusted proxy may set them; from anyone else they are dropped, Next.js
 * derives them from the socket, and the endpoints refuse to decide.
 */
export const forwardingHeaders = Object.freeze([
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'forwarded',
  'x-forwarded-method',
  'x-forwarded-uri',
  'x-original-url',
  'x-original-method',
]);

/** Whether the socket peer is a proxy the operator trusts (PORTCULLIS_TRUSTED_PROXIES). */
export function peerIsTrustedProxy(peer, trusted) {
  if (trusted.kind === 'none') return false;
  if (trusted.kind === 'hops') return true;
  return trusted.addresses.has(normalizeAddress(peer) || 'unknown');
}

/**
 * Removes the forwarding headers from a node request's headers (in place) unless the peer
 * is a trusted proxy. Returns the names that were dropped.
 */
export function dropUntrustedForwarding(headers, peer, trusted) {
  if (peerIsTrustedProxy(peer, trusted)) return [];
  const dropped = [];
  for (const name of forwardingHeaders) {
    if (name in headers) {
      delete headers[name];
      dropped.push(name);
    }
  }
  return dropped;
}
