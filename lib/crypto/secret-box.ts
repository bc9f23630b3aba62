import { brandError } from '../errors/brand';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { appSecrets } from '../config/secret';

/**
 * Encryption at rest for stored secrets (TOTP seeds, the Duo client secret):
 * AES-256-GCM with a key derived from the app secret by HKDF-SHA256.
 *
 * A sealed value reads `pcb1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts). The key id
 * is derived from the key (not the key itself), so after the app secret changes a keyring
 * holding the old secret too can still open old values while new ones use the new key.
 * An optional context is bound as associated data: a value sealed for one row cannot be
 * copied into another (say, an attacker's own TOTP secret into a victim's factor).
 */

const version = 'pcb1';
const ivBytes = 12;
const tagBytes = 16;
const keyBytes = 32;
const keyIdBytes = 6;
const hkdfSalt = 'portcullis/secret-box';

export interface BoxKey {
  id: string;
  key: Buffer;
}

/** The newest key seals; every key in the ring may open. */
export interface Keyring {
  current: BoxKey;
  byId: ReadonlyMap<string, BoxKey>;
}

export class SecretBoxError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    brandError(this, 'SecretBoxError');
  }
}

/** A 32-byte subkey of `secret` for one purpose; different purposes give unrelated keys. */
export function deriveSubkey(secret: string, purpose: string, length = keyBytes): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), hkdfSalt, purpose, length));
}

function boxKeyOf(secret: string): BoxKey {
  const key = deriveSubkey(secret, 'aes-256-gcm key v1');
  const id = deriveSubkey(secret, 'aes-256-gcm key id v1', keyIdBytes).toString('base64url');
  return { id, key };
}

/**
 * A keyring from app secrets, newest first.
 * @example createKeyring([process.env.NEW_SECRET, process.env.OLD_SECRET])
 */
export function createKeyring(secrets: readonly string[]): Keyring {
  if (secrets.length === 0) throw new SecretBoxError('A keyring needs at least one secret.');
  const keys = secrets.map(boxKeyOf);
  return { current: keys[0]!, byId: new Map(keys.map((k) => [k.id, k])) };
}

let defaultRing: { secrets: readonly string[]; ring: Keyring } | null = null;

/**
 * The keyring of this process's app secrets (PORTCULLIS_SECRET, newest first): the newest
 * seals, every listed one opens. Derived once: appSecrets() returns the same list for the
 * life of the process.
 */
export function defaultKeyring(): Keyring {
  const secrets = appSecrets();
  if (defaultRing?.secrets !== secrets) defaultRing = { secrets, ring: createKeyring(secrets) };
  return defaultRing.ring;
}

/**
 * Encrypts `plaintext` under the ring's current key.
 * @param context bound as associated data; opening needs the same context.
 */
export function sealSecret(plaintext: string, context = '', ring: Keyring = defaultKeyring()): string {
  const { id, key } = ring.current;
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
  cipher.setAAD(associatedData(id, context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [version, id, iv.toString('base64url'), body.toString('base64url'), tag.toString('base64url')].join('.');
}

/**
 * Decrypts a value from sealSecret(). Throws SecretBoxError for an unknown key id, a wrong
 * key or context, or any tampering; never returns garbage.
 */
export function openSecret(sealed: string, context = '', ring: Keyring = defaultKeyring()): string {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts.length !== 5 || parts[0] !== version) throw new SecretBoxError('Not a sealed secret.');
  const [, id, ivText, bodyText, tagText] = parts as [string, string, string, string, string];
  const entry = ring.byId.get(id);
  if (!entry) throw new SecretBoxError('Sealed with a key this server does not have.');
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== ivBytes || tag.length !== tagBytes) throw new SecretBoxError('Not a sealed secret.');
  try {
    const decipher = createDecipheriv('aes-256-gcm', entry.key, iv, { authTagLength: tagBytes });
    decipher.setAAD(associatedData(id, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(bodyText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretBoxError('The sealed secret could not be opened.');
  }
}

/** The key id a value was sealed with, or null; lets a re-encryption job find old values. */
export function keyIdOf(sealed: string): string | null {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  return parts.length === 5 && parts[0] === version ? parts[1]! : null;
}

function associatedData(keyId: string, context: string): Buffer {
  return Buffer.from(`${version}.${keyId}.${context}`, 'utf8');
}
