import type { ParsedCidr, ParsedIp } from './types';

/**
 * IPv4/IPv6 address and CIDR parsing for R-C3 conditions, in plain string code so the
 * engine stays free of node:net and runs anywhere (middleware included).
 *
 * Strict on purpose: leading zeros ("010.0.0.1" is octal to some parsers), zone ids in
 * ranges, brackets and stray characters are refused rather than guessed at, because a
 * range that means something other than what the admin saw would silently widen or
 * narrow a policy.
 */

const V4_MAPPED_PREFIX = 0xffff_0000_0000n;
const ALL_ONES_128 = (1n << 128n) - 1n;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const PREFIX_TEXT = /^(?:0|[1-9][0-9]{0,2})$/;
const ZONE_ID = /^[0-9A-Za-z._~-]{1,32}$/;
/** "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */
const MAX_V6_TEXT = 45;

/** IPv4 dotted quad to an unsigned 32-bit number, or -1. Hand-rolled: it runs once per request. */
function parseV4(s: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      continue;
    }
    if (c < 48 || c > 57) return -1;
    if (digits > 0 && octet === 0) return -1; // leading zero
    octet = octet * 10 + (c - 48);
    digits++;
    if (octet > 255) return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/** Appends the 16-bit words of `parts` to `words`; an IPv4 tail counts as two words. */
function pushWords(parts: string[], words: number[], v4TailAllowed: boolean): boolean {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.includes('.')) {
      if (!v4TailAllowed || i !== parts.length - 1) return false;
      const v4 = parseV4(p);
      if (v4 < 0) return false;
      words.push(Math.floor(v4 / 0x10000), v4 & 0xffff);
    } else {
      if (!HEX_GROUP.test(p)) return false;
      words.push(parseInt(p, 16));
    }
  }
  return true;
}

function parseV6(s: string): bigint | null {
  if (s.length < 2 || s.length > MAX_V6_TEXT) return null;
  const gap = s.indexOf('::');
  if (gap !== -1 && s.indexOf('::', gap + 1) !== -1) return null;

  const words: number[] = [];
  if (gap === -1) {
    if (!pushWords(s.split(':'), words, true) || words.length !== 8) return null;
  } else {
    const headText = s.slice(0, gap);
    const tailText = s.slice(gap + 2);
    const head = headText === '' ? [] : headText.split(':');
    const tail = tailText === '' ? [] : tailText.split(':');
    const tailWords: number[] = [];
    // An IPv4 tail must end the address, so it is only legal after the "::".
    if (!pushWords(head, words, false) || !pushWords(tail, tailWords, true)) return null;
    const missing = 8 - words.length - tailWords.length;
    if (missing < 1) return null;
    for (let i = 0; i < missing; i++) words.push(0);
    for (const w of tailWords) words.push(w);
  }

  let value = 0n;
  for (const w of words) value = (value << 16n) | BigInt(w);
  return value;
}

function v6Result(value: bigint): ParsedIp {
  const mappedV4 = value >> 32n === 0xffffn ? Number(value & 0xffff_ffffn) : null;
  return { v: 6, value, mappedV4 };
}

/**
 * Parses a client address as reported by a socket or trusted proxy. A zone id
 * ("fe80::1%eth0") is accepted and ignored: it scopes the link, not the address.
 * Returns null for anything else, including "unknown" and "".
 */
export function parseIp(s: string): ParsedIp | null {
  if (typeof s !== 'string' || s.length === 0) return null;
  if (s.includes(':')) {
    const pct = s.indexOf('%');
    let addr = s;
    if (pct !== -1) {
      if (!ZONE_ID.test(s.slice(pct + 1))) return null;
      addr = s.slice(0, pct);
    }
    const value = parseV6(addr);
    return value === null ? null : v6Result(value);
  }
  const v4 = parseV4(s);
  return v4 < 0 ? null : { v: 4, value: v4 };
}

function v4Mask(prefix: number): number {
  // NOTE: `x << 32` is `x << 0` in JS, so /0 needs its own branch.
  return prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
}

function v6Mask(prefix: number): bigint {
  return ALL_ONES_128 ^ ((1n << BigInt(128 - prefix)) - 1n);
}

function invalid(input: unknown, why: string): Error {
  return new Error(`Invalid CIDR ${JSON.stringify(input)}: ${why}`);
}

/**
 * Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32 or /128). Host bits are
 * cleared ("10.1.2.3/8" is 10.0.0.0/8), as most firewalls do. Surrounding whitespace is
 * trimmed; anything else odd throws, so the caller can fail closed.
 */
export function parseCidr(input: string): ParsedCidr {
  if (typeof input !== 'string') throw invalid(input, 'not a string');
  const s = input.trim();
  if (s === '') throw invalid(input, 'empty');
  const slash = s.indexOf('/');
  const addrText = slash === -1 ? s : s.slice(0, slash);
  const prefixText = slash === -1 ? null : s.slice(slash + 1);
  if (addrText.includes('%')) throw invalid(input, 'zone ids are not allowed in ranges');
  if (prefixText !== null && !PREFIX_TEXT.test(prefixText)) throw invalid(input, 'prefix must be a whole number');

  const ip = parseIp(addrText);
  if (ip === null) throw invalid(input, 'not an IPv4 or IPv6 address');

  if (ip.v === 4) {
    const prefix = prefixText === null ? 32 : Number(prefixText);
    if (prefix > 32) throw invalid(input, 'IPv4 prefix must be 0–32');
    const mask = v4Mask(prefix);
    return { v: 4, network: (ip.value & mask) >>> 0, mask, prefix, text: s };
  }
  const prefix = prefixText === null ? 128 : Number(prefixText);
  if (prefix > 128) throw invalid(input, 'IPv6 prefix must be 0–128');
  const mask = v6Mask(prefix);
  return { v: 6, network: ip.value & mask, mask, prefix, text: s };
}

export function isValidCidr(s: string): boolean {
  try {
    parseCidr(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `ip` lies in `cidr`. Families cross over only through IPv4-mapped IPv6
 * (::ffff:0:0/96), the form dual-stack sockets report IPv4 peers in.
 */
export function cidrContains(cidr: ParsedCidr, ip: ParsedIp | string): boolean {
  const addr = typeof ip === 'string' ? parseIp(ip) : ip;
  if (addr === null) return false;
  if (cidr.v === 4) {
    const v4 = addr.v === 4 ? addr.value : addr.mappedV4;
    return v4 !== null && (v4 & cidr.mask) >>> 0 === cidr.network;
  }
  const v6 = addr.v === 6 ? addr.value : V4_MAPPED_PREFIX | BigInt(addr.value);
  return (v6 & cidr.mask) === cidr.network;
}

export function anyContains(cidrs: readonly ParsedCidr[], ip: ParsedIp): boolean {
  for (let i = 0; i < cidrs.length; i++) if (cidrContains(cidrs[i]!, ip)) return true;
  return false;
}
