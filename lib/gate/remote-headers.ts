/**
 * The identity headers an allowed forward-auth answer carries (Remote-User, -Email, -Name,
 * -Groups, -Methods), which the proxy copies onto the request it lets through. Pure.
 *
 * What an upstream must expect:
 * - Values are UTF-8 bytes on the wire (a display name "Zoë" is `5a 6f c3 ab`): decode the
 *   header as UTF-8, not Latin-1. Control characters (C0, DEL, C1, line and paragraph
 *   separators) are removed, so a value is always one header line.
 * - Remote-Groups is the user's group names, sorted, joined with `,`. A group name is any
 *   trimmed text of 1 to 100 characters (lib/admin/groups.ts), so it may contain a comma
 *   itself; inside a name `%` is sent as `%25` and `,` as `%2C`, so splitting on `,` always
 *   yields whole names and no name can pose as two (percent-decode each part to get the
 *   name back). A user in no group gets an empty value.
 * - Remote-Methods lists the methods the session passed, in order, e.g. `pwd,totp`.
 * - Every header is always present (empty when there is nothing to say), so whatever a
 *   client sent under these names is overwritten by a proxy that copies them; the proxy
 *   must still strip client-sent Remote-* headers on routes it does not guard.
 */
import type { SessionContext } from '../auth/sessions';

// C0, DEL, C1, and U+2028/U+2029 (line breaks to some parsers).
const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const maxValueBytes = 4096;

/** A header value: controls removed, trimmed, then its UTF-8 bytes as a byte string. */
export function remoteHeaderValue(text: string | null | undefined): string {
  const clean = (text ?? '').replace(controls, '').trim();
  let bytes = Buffer.from(clean, 'utf8');
  // NOTE: cut at a character boundary so a long value never ends in half a UTF-8 sequence.
  if (bytes.length > maxValueBytes) bytes = Buffer.from(new TextDecoder().decode(bytes.subarray(0, maxValueBytes)).replace(/\uFFFD$/, ''), 'utf8');
  // Headers are byte strings (Fetch's ByteString, node's latin1): each byte one code unit.
  return bytes.toString('latin1');
}

/** One group name as it appears in Remote-Groups (see above). */
export function groupListItem(name: string): string {
  return name.replace(controls, '').trim().replace(/%/g, '%25').replace(/,/g, '%2C');
}

/** The Remote-* headers for an allowed session. */
export function remoteHeadersFor(session: Pick<SessionContext, 'username' | 'email' | 'displayName' | 'amr'>, groupNames: readonly string[]): Record<string, string> {
  const methods = [...new Set(session.amr.map((entry) => entry.method))];
  const groups = [...groupNames].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(groupListItem).filter(Boolean);
  return {
    'Remote-User': remoteHeaderValue(session.username),
    'Remote-Email': remoteHeaderValue(session.email),
    'Remote-Name': remoteHeaderValue(session.displayName),
    'Remote-Groups': remoteHeaderValue(groups.join(',')),
    'Remote-Methods': remoteHeaderValue(methods.join(',')),
  };
}
