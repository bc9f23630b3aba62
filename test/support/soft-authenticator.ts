import { createHash, createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

/**
 * A software WebAuthn authenticator for tests: a P-256 key pair, 'none' attestation, and
 * authenticator data built byte by byte, so tests can say exactly what a browser and an
 * authenticator would have sent, and then break one thing at a time (origin, RP ID,
 * challenge, flags, counter).
 *
 *   const key = new SoftAuthenticator({ rpId: 'localhost', origin: 'http://localhost:3000' });
 *   const response = key.register(options.challenge);
 *   const assertion = key.assert(options.challenge);
 */

export const flags = { up: 0x01, uv: 0x04, be: 0x08, bs: 0x10, at: 0x40, ed: 0x80 } as const;

export interface Overrides {
  /** clientDataJSON.origin; default the authenticator's origin. */
  origin?: string;
  /** The RP ID whose hash goes into authenticator data; default the authenticator's RP ID. */
  rpId?: string;
  /** clientDataJSON.type; default 'webauthn.create' / 'webauthn.get'. */
  type?: string;
  /** Flags byte; default UP | UV (and AT at registration). */
  flags?: number;
  /** Counter to report instead of the next one. */
  counter?: number;
  /** userHandle in the assertion; default the one registered (if any). Null leaves it out. */
  userHandle?: string | null;
  /** Signs with this key instead (a forged signature). */
  signWith?: KeyObject;
}

export interface SoftAuthenticatorOptions {
  rpId: string;
  origin: string;
  /**
   * 'counter' (default): a security key whose counter goes up by one per use.
   * 'passkey': a synced passkey that always reports 0.
   */
  kind?: 'counter' | 'passkey';
  /** The first counter value reported at registration. */
  initialCounter?: number;
}

function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export class SoftAuthenticator {
  readonly rpId: string;
  readonly origin: string;
  readonly credentialId: Buffer = randomBytes(32);
  readonly kind: 'counter' | 'passkey';
  counter: number;
  userHandle: string | null = null;
  private readonly privateKey: KeyObject;
  private readonly publicJwk: { x: string; y: string };

  constructor(options: SoftAuthenticatorOptions) {
    this.rpId = options.rpId;
    this.origin = options.origin;
    this.kind = options.kind ?? 'counter';
    this.counter = this.kind === 'passkey' ? 0 : (options.initialCounter ?? 0);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.publicJwk = { x: jwk.x!, y: jwk.y! };
  }

  get id(): string {
    return isoBase64URL.fromBuffer(new Uint8Array(this.credentialId));
  }

  /** The COSE_Key of the public key: EC2, ES256, P-256. */
  coseKey(): Uint8Array {
    return isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array(Buffer.from(this.publicJwk.x, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(this.publicJwk.y, 'base64url'))],
      ]),
    );
  }

  private clientData(type: string, challenge: string, origin: string): string {
    return isoBase64URL.fromUTF8String(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** A navigator.credentials.create() answer for `challenge` (base64url), as @simplewebauthn/browser sends it. */
  register(challenge: string, o: Overrides & { userHandle?: string | null } = {}): RegistrationResponseJSON {
    if (o.userHandle) this.userHandle = o.userHandle;
    const authData = Buffer.concat([
      sha256(o.rpId ?? this.rpId),
      Buffer.from([o.flags ?? flags.up | flags.uv | flags.at]),
      u32(o.counter ?? this.counter),
      Buffer.alloc(16), // AAGUID: none
      Buffer.from([this.credentialId.length >> 8, this.credentialId.length & 0xff]),
      this.credentialId,
      Buffer.from(this.coseKey()),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Map<string, string> | Uint8Array>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: this.clientData(o.type ?? 'webauthn.create', challenge, o.origin ?? this.origin),
        attestationObject: isoBase64URL.fromBuffer(attestationObject),
        transports: ['usb'],
      },
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: {},
    };
  }

  /** A navigator.credentials.get() answer for `challenge`; moves the counter like the device would. */
  assert(challenge: string, o: Overrides = {}): AuthenticationResponseJSON {
    if (o.counter === undefined && this.kind === 'counter') this.counter += 1;
    const counter = o.counter ?? this.counter;
    const authData = Buffer.concat([sha256(o.rpId ?? this.rpId), Buffer.from([o.flags ?? flags.up | flags.uv]), u32(counter)]);
    const clientDataJSON = this.clientData(o.type ?? 'webauthn.get', challenge, o.origin ?? this.origin);
    const signer = createSign('sha256');
    signer.update(Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]));
    const signature = signer.sign(o.signWith ?? this.privateKey); // DER, as authenticators produce
    const userHandle = o.userHandle === undefined ? this.userHandle : o.userHandle;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: isoBase64URL.fromBuffer(new Uint8Array(authData)),
        signature: isoBase64URL.fromBuffer(new Uint8Array(signature)),
        ...(userHandle ? { userHandle } : {}),
      },
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: {},
    };
  }
}
