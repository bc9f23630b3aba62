import { hash, parseOptions, verify } from '@node-rs/argon2';
import { hashLimits, PasswordPool } from './password-pool';
import { parsePasswordThreads } from './password-threads';
import { processSingleton } from '../process-singletons';
import { log } from '../log';

/**
 * argon2id with OWASP's minimum parameters (19 MiB, t=2, p=1). Hashing runs on libuv's
 * thread pool (@node-rs/argon2); verifying, the hot path of every sign-in, runs on a small
 * pool of low-priority worker threads (password-pool.ts). Neither blocks the event loop.
 */
const argon2id = 2; // Algorithm.Argon2id; the enum is `const` and can't cross isolatedModules.
export const passwordHashOptions = { algorithm: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const maxPasswordLength = 1024;

export async function hashPassword(password: string): Promise<string> {
  return hash(password, passwordHashOptions);
}

interface PoolState {
  /** Set once the pool's threads are up; null when it could not start (then libuv verifies). */
  pool: PasswordPool | null | undefined;
  starting: Promise<PasswordPool | null> | undefined;
}

// One pool per process (lib/process-singletons.ts): a module-level variable would start a
// pool per bundle.
function poolState(): PoolState {
  return processSingleton<PoolState>('passwordPool', () => ({ pool: undefined, starting: undefined }));
}

function poolWanted(): boolean {
  return parsePasswordThreads(process.env.PORTCULLIS_PASSWORD_THREADS) !== 0;
}

/** The shared verify pool, started on first use; null when disabled or when it cannot start. */
export function passwordPool(): PasswordPool | null | Promise<PasswordPool | null> {
  const state = poolState();
  if (state.pool !== undefined) return state.pool;
  if (!poolWanted()) return (state.pool = null);
  state.starting ??= (async () => {
    let pool: PasswordPool | undefined;
    try {
      pool = new PasswordPool();
      await pool.whenReady();
      state.pool = pool;
    } catch (err) {
      log.warn({ err }, 'password worker threads unavailable; verifying on libuv');
      await pool?.close().catch(() => undefined);
      state.pool = null;
    }
    return state.pool;
  })();
  return state.starting;
}

/**
 * True when `password` matches `passwordHash`. A malformed stored hash reads as "wrong
 * password", never as a 500; only a broken verifier (a worker thread that died) rejects,
 * and the caller fails closed.
 */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  const state = poolState();
  const pool = state.pool !== undefined ? state.pool : await passwordPool();
  if (pool) return pool.verify(passwordHash, password);
  try {
    const o = parseOptions(passwordHash);
    if (o.memoryCost > hashLimits.memoryCost || o.timeCost > hashLimits.timeCost || o.parallelism > hashLimits.parallelism) return false;
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies against a throwaway hash, so an unknown username costs what a known one costs
 * and timing does not tell the two apart.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('portcullis-dummy-password-for-timing');
  await verifyTypedPassword(await dummyHash, password);
  return false;
}

/**
 * True when a password someone typed matches `passwordHash`. New hashes are of the NFKC form
 * (password-policy.ts), so the same password typed on another keyboard (composed or
 * decomposed accents, full-width letters) still matches. A hash made before that rule may be
 * of the raw form: only when the input is not already NFKC (ASCII always is) and the NFKC form
 * failed, the raw form is tried too; a wrong password then costs two verifies, known account
 * or not (verifyAgainstDummy takes the same path).
 */
export async function verifyTypedPassword(passwordHash: string, password: string): Promise<boolean> {
  const nfkc = password.normalize('NFKC');
  if (await verifyPassword(passwordHash, nfkc)) return true;
  return nfkc !== password && verifyPassword(passwordHash, password);
}
