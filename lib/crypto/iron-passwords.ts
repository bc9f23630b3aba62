import { appSecrets } from '../config/secret';
import { deriveSubkey } from './secret-box';

/**
 * iron-session passwords for the app secrets, for one purpose (a cookie family).
 *
 * iron-session 8 takes a password map `{ id: password }`: a seal names the id it was made
 * with, and unsealing looks that id up. Each listed secret gets an id derived from it, so the
 * same secret has the same id on every instance and across restarts, whatever its place in
 * PORTCULLIS_SECRET. iron-session would seal with the highest id, which for derived ids says
 * nothing about age, so sealing gets a map of the newest secret alone; opening gets them all.
 *
 * Id 1 is what a plain string password seals under (iron-session's default): what this code's
 * predecessor made with its one secret, which is the oldest listed after a rotation. It maps
 * to the oldest secret, so ceremonies started just before the upgrade still finish; derived
 * ids are never 1.
 */
export interface IronPasswords {
  /** For sealData: the newest secret's password, under its id. */
  seal: Readonly<Record<string, string>>;
  /** For unsealData: every listed secret's password, under its id (and id 1, see above). */
  open: Readonly<Record<string, string>>;
}

const legacyId = '1';

/** A stable numeric id for a secret (iron-session wants digits); never 0 or 1. */
function ironPasswordId(secret: string): string {
  return String(deriveSubkey(secret, 'iron-session password id v1', 4).readUInt32BE(0) + 2);
}

function ironPassword(secret: string, purpose: string): string {
  return deriveSubkey(secret, purpose).toString('hex');
}

const memo = new Map<string, { secrets: readonly string[]; passwords: IronPasswords }>();

/**
 * @param purpose HKDF info of the cookie family, e.g. 'iron-session pending setup v1'
 * @param secrets newest first; default: this process's (derived once per purpose)
 */
export function ironPasswords(purpose: string, secrets: readonly string[] = appSecrets()): IronPasswords {
  const hit = memo.get(purpose);
  if (hit?.secrets === secrets) return hit.passwords;
  // NOTE: null prototypes: iron-webcrypto looks a seal's id up with `in`.
  const open: Record<string, string> = Object.create(null);
  for (const secret of secrets) open[ironPasswordId(secret)] = ironPassword(secret, purpose);
  open[legacyId] = ironPassword(secrets[secrets.length - 1]!, purpose);
  const newest = secrets[0]!;
  const seal: Record<string, string> = Object.create(null);
  seal[ironPasswordId(newest)] = open[ironPasswordId(newest)]!;
  const passwords = { seal: Object.freeze(seal), open: Object.freeze(open) };
  memo.set(purpose, { secrets, passwords });
  return passwords;
}
