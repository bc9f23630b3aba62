import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readEnv, type PortcullisEnv } from './env';
import { isSqliteUrl } from '../../db/url';

const secretFileName = 'secret';
const minimumSecretLength = 32;

let cached: string | undefined;

/**
 * The application secret. Production deployments pass PORTCULLIS_SECRET; the embedded
 * SQLite default generates one on first start and keeps it beside the database (0600),
 * so a newcomer's `npm start` is secure without configuration. There is never a
 * hard-coded fallback: PostgreSQL deployments without a secret refuse to start.
 */
export function appSecret(env: PortcullisEnv = readEnv()): string {
  if (cached) return cached;
  if (env.secret) {
    if (env.secret.length < minimumSecretLength) {
      throw new Error(`PORTCULLIS_SECRET must be at least ${minimumSecretLength} characters`);
    }
    cached = env.secret;
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
  cached = value;
  return cached;
}
