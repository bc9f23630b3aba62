import { describe, expect, it } from 'vitest';
import { createKeyring, keyIdOf, openSecret, sealSecret, SecretBoxError } from '@/lib/crypto/secret-box';

const oldSecret = 'an-old-app-secret-that-is-long-enough-0001';
const newSecret = 'a-new-app-secret-that-is-long-enough-00002';
const ring = createKeyring([oldSecret]);

describe('secret box (AES-256-GCM, HKDF key, key id)', () => {
  it('round-trips, with a fresh IV each time', () => {
    const a = sealSecret('JBSWY3DPEHPK3PXP', 'totp:u1', ring);
    const b = sealSecret('JBSWY3DPEHPK3PXP', 'totp:u1', ring);
    expect(a).not.toBe(b);
    expect(a).not.toContain('JBSWY3DPEHPK3PXP');
    expect(openSecret(a, 'totp:u1', ring)).toBe('JBSWY3DPEHPK3PXP');
    expect(openSecret(b, 'totp:u1', ring)).toBe('JBSWY3DPEHPK3PXP');
  });

  it('starts with a version and a key id that reveals nothing of the key', () => {
    const sealed = sealSecret('x', '', ring);
    expect(sealed).toMatch(/^pcb1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/);
    expect(keyIdOf(sealed)).toBe(ring.current.id);
    expect(createKeyring([newSecret]).current.id).not.toBe(ring.current.id);
  });

  it('refuses a value sealed under another key', () => {
    const sealed = sealSecret('secret', '', ring);
    expect(() => openSecret(sealed, '', createKeyring([newSecret]))).toThrow(SecretBoxError);
  });

  it('refuses a wrong key even when the key id is forged to match', () => {
    const sealed = sealSecret('secret', '', createKeyring([newSecret]));
    const forged = sealed.replace(/^pcb1\.[^.]+\./, `pcb1.${ring.current.id}.`);
    expect(() => openSecret(forged, '', ring)).toThrow(SecretBoxError);
  });

  it('refuses another context: a sealed secret cannot be moved to another user', () => {
    const sealed = sealSecret('secret', 'totp:mallory', ring);
    expect(() => openSecret(sealed, 'totp:alice', ring)).toThrow(SecretBoxError);
  });

  it.each([
    ['a flipped ciphertext bit', (s: string) => flip(s, 3)],
    ['a flipped tag bit', (s: string) => flip(s, 4)],
    ['a flipped IV bit', (s: string) => flip(s, 2)],
    ['a truncated value', (s: string) => s.slice(0, -4)],
    ['garbage', () => 'not sealed at all'],
    ['an empty string', () => ''],
  ])('refuses %s', (_name, damage) => {
    expect(() => openSecret(damage(sealSecret('secret', '', ring)), '', ring)).toThrow(SecretBoxError);
  });

  it('rotation: a ring with the new secret first seals with it and still opens old values', () => {
    const old = sealSecret('legacy', '', ring);
    const rotated = createKeyring([newSecret, oldSecret]);
    expect(openSecret(old, '', rotated)).toBe('legacy');
    const fresh = sealSecret('current', '', rotated);
    expect(keyIdOf(fresh)).toBe(createKeyring([newSecret]).current.id);
    expect(() => openSecret(fresh, '', ring)).toThrow(SecretBoxError);
  });
});

function flip(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0] = bytes[0]! ^ 1;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}
