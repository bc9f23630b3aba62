import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HS512 JWTs, written out with node:crypto rather than with the client's own JWT library,
 * so the fake checks what the Duo client sends instead of agreeing with itself.
 */

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export function signHs512(claims: Record<string, unknown>, secret: string): string {
  const head = b64(JSON.stringify({ alg: 'HS512', typ: 'JWT' }));
  const body = b64(JSON.stringify(claims));
  const mac = createHmac('sha512', Buffer.from(secret, 'utf8')).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64(mac)}`;
}

export class JwtError extends Error {}

/**
 * The claims of an HS512 JWT signed with `secret`, after checking the signature, the
 * algorithm, the audience and the expiry (60 s leeway, as Duo allows); throws JwtError.
 */
export function verifyHs512(token: unknown, secret: string, expect: { audience: string; now?: number }): Record<string, unknown> {
  if (typeof token !== 'string') throw new JwtError('no token');
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('not a JWT');
  const [head, body, sig] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('undecodable');
  }
  if (header.alg !== 'HS512') throw new JwtError(`alg ${String(header.alg)}`);
  const mac = createHmac('sha512', Buffer.from(secret, 'utf8')).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== mac.length || !timingSafeEqual(given, mac)) throw new JwtError('bad signature');
  const now = Math.floor((expect.now ?? Date.now()) / 1000);
  if (typeof claims.exp !== 'number' || claims.exp + 60 < now) throw new JwtError('expired');
  if (claims.aud !== expect.audience) throw new JwtError(`audience ${String(claims.aud)}`);
  return claims;
}
