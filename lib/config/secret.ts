import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readEnv, type PortcullisEnv } from './env';
import { isSqliteUrl } from '../../db/url';

const secretFileName = 'secret';
export const minimumSecretLength = 32;
/** Rotation needs two, three covers a rotation started before the last one finished. */
export const maximumSecrets = 4;

/**
 * PORTCULLIS_SECRET's list: secrets separated by commas, newest first. The newest seals and
 * signs; the others only open and verify (secret rotation, README "Rotating the secret").
 * @throws Error naming the variable and what is wrong (never the value)
 */
export function parseSecretList(raw: string): string[] {
  const secrets = raw.split(',').map((s) => s.trim());
  if (secrets.some((s) => s === '')) throw new Error('PORTCULLIS_SECRET has an empty entry: secrets are separated by single commas, newest first');
  if (secrets.length > maximumSecrets) throw new Error(`PORTCULLIS_SECRET lists ${secrets.length} secrets; at most ${maximumSecrets}`);
  secrets.forEach((secret, i) => {
    if (secret.length < minimumSecretLength) {
      throw new Error(`PORTCULLIS_SECRET${secrets.length > 1 ? ` (entry ${i + 1})` : ''} must be at least ${minimumSecretLength} characters`);
    }
  });
  if (new Set(secrets).size !== secrets.length) throw new Error('PORTCULLIS_SECRET lists the same secret twice');
  return secrets;
}

let cached: readonly string[] | undefined;

/**
 * The application secrets, newest first. Production deployments pass PORTCULLIS_SECRET; the
 * embedded SQLite default generates one on first start and keeps it beside the database
 * (0600), so a newcomer's `npm start` is secure without configuration. There is never a
 * hard-coded fallback: PostgreSQL deployments without a secret refuse to start.
 */
export function appSecrets(env: PortcullisEnv = readEnv()): readonly string[] {
  if (cached) return cached;
  if (env.secret) {
    cached = Object.freeze(parseSecretList(env.secret));
    return cached;
  }
  if (!isSqliteUrl(env.databaseUrl)) {
    throw new Error('PORTCULLIS_SECRET is required when DATABASE_URL points at PostgreSQL');
  }
  fs.mkdirSync(env.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(env.dataDir, secretFileName);
  try {
    // NOTE: 'wx' fails if another process won the race; then we read theirs.
    fs.writeFileSync(file, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const value = fs.readFileSync(file, 'utf8').trim();
  if (value.length < minimumSecretLength) throw new Error(`${file} holds no usable secret`);
  // NOTE: read as the variable is, so a list written here (newest first) means what it would
  // there, never one secret with commas in it.
  try {
    cached = Object.freeze(parseSecretList(value));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  return cached;
}

/** The newest application secret: the one that seals and signs. */
export function appSecret(env: PortcullisEnv = readEnv()): string {
  return appSecrets(env)[0]!;
}
