import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { processSingleton } from '../process-singletons';

/**
 * The shipped list of common, breached and dictionary passwords (assets/password-blocklist.txt.gz,
 * built by scripts/build-password-blocklist.mjs; assets/README.md says where it came from).
 *
 * One sorted, newline-separated UTF-8 buffer and an offset per entry, searched by binary
 * search on bytes: about 10 MB for 709k entries, where a Set of strings would take several
 * times that. Loaded once per process, on the first password set (processSingleton: a bundler
 * may load this module twice). A list that can't be read throws: a password is never accepted
 * unchecked.
 */
/** Where the shipped list lives, relative to the repository root. */
export const passwordBlocklistFile = path.join('assets', 'password-blocklist.txt.gz');

export interface PasswordBlocklist {
  /** Number of entries. */
  readonly size: number;
  /** True when `key` (already NFKC and lowercased, see blocklistKey) is on the list. */
  has(key: string): boolean;
}

/** The list's sorted entries as one buffer; `ends[i]` is where entry i ends (its newline). */
export function sortedBlocklist(text: Buffer): PasswordBlocklist {
  let count = 0;
  for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) count++;
  const ends = new Uint32Array(count);
  for (let i = text.indexOf(10), n = 0; i !== -1; i = text.indexOf(10, i + 1)) ends[n++] = i;
  const startOf = (i: number) => (i === 0 ? 0 : ends[i - 1]! + 1);
  // Range compares, no slices: the check and each search allocate nothing per entry.
  for (let i = 1; i < count; i++) {
    // text[previous entry] against text[entry i]: must sort strictly before it.
    if (text.compare(text, startOf(i), ends[i], startOf(i - 1), ends[i - 1]) >= 0) {
      throw new Error('password blocklist is not sorted by UTF-8 bytes');
    }
  }
  return {
    size: count,
    has(key: string): boolean {
      const wanted = Buffer.from(key, 'utf8');
      let lo = 0;
      let hi = count - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const c = wanted.compare(text, startOf(mid), ends[mid]);
        if (c === 0) return true;
        if (c > 0) lo = mid + 1;
        else hi = mid - 1;
      }
      return false;
    },
  };
}

/**
 * Reads and unpacks the list: the shipped one from assets/ under the working directory (the
 * repository root under `npm start`), or `file` (tests, benches).
 */
export function loadPasswordBlocklist(file?: string): PasswordBlocklist {
  // A path built from literals, so the bundler's file tracing finds the list and nothing else.
  const where = file === undefined ? path.join(process.cwd(), 'assets', 'password-blocklist.txt.gz') : path.resolve(/*turbopackIgnore: true*/ file);
  return sortedBlocklist(zlib.gunzipSync(fs.readFileSync(where)));
}

/** The process's list, loaded on first use. */
export function shippedPasswordBlocklist(): PasswordBlocklist {
  return processSingleton('password-blocklist', () => loadPasswordBlocklist());
}
