import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id with OWASP's minimum parameters (19 MiB, t=2, p=1). @node-rs/argon2 runs the
 * work on libuv's thread pool, so the event loop keeps serving while a hash is computed.
 */
const argon2id = 2; // Algorithm.Argon2id; the enum is `const` and can't cross isolatedModules.
export const passwordHashOptions = { algorithm: argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const maxPasswordLength = 1024;

export async function hashPassword(password: string): Promise<string> {
  return hash(password, passwordHashOptions);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    // NOTE: a malformed stored hash must read as "wrong password", never as a 500.
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
  await verify(await dummyHash, password).catch(() => false);
  return false;
}
