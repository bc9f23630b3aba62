import { describe, expect, it } from 'vitest';
import { authenticator } from 'otplib';
import {
  base32Decode,
  base32Encode,
  groupedKey,
  matchTotpStep,
  newTotpSecret,
  otpauthUri,
  parseTotpCode,
  qrCodeDataUrl,
  stepAt,
  totpCodeAt,
} from '@/lib/factors/totp';

const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
// 09:30:15 UTC: 15 s into a step, so ±1 step is clearly "one step early/late".
const now = Date.UTC(2026, 10, 2, 9, 30, 15);
const current = stepAt(now);
const codeAtOffset = (offset: number) => totpCodeAt(secret, current + offset);

describe('TOTP codes (RFC 6238: SHA-1, 6 digits, 30 s)', () => {
  it('matches what authenticator apps compute (otplib, RFC 6238 defaults)', () => {
    const app = authenticator.clone({ epoch: now });
    expect(totpCodeAt(secret, current)).toBe(app.generate(secret));
    expect(totpCodeAt(secret, current)).toMatch(/^[0-9]{6}$/);
  });

  it('reproduces the RFC 6238 SHA-1 test vector at T = 59 s', () => {
    // Key "12345678901234567890"; the RFC's 8-digit value 94287082 truncates to 287082.
    const rfcSecret = base32Encode(Buffer.from('12345678901234567890'));
    expect(totpCodeAt(rfcSecret, stepAt(59_000))).toBe('287082');
  });

  it.each([
    ['the current step', 0, true],
    ['one step early (clock behind)', -1, true],
    ['one step late (clock ahead)', 1, true],
    ['two steps early', -2, false],
    ['two steps late', 2, false],
    ['ten steps early', -10, false],
  ])('%s → %s', (_name, offset, accepted) => {
    const code = codeAtOffset(offset);
    const expectedStep = accepted ? current + offset : null;
    // A code of another step may collide with one inside the window (1 in 10^6); skip that case.
    const collides = [-1, 0, 1].some((o) => o !== offset && codeAtOffset(o) === code);
    if (!collides) expect(matchTotpStep(secret, code, now)).toBe(expectedStep);
  });

  it('the window edges are step boundaries: the first and last millisecond of a step', () => {
    const stepStart = current * 30_000;
    const stepEnd = stepStart + 29_999;
    for (const at of [stepStart, stepEnd]) {
      expect(matchTotpStep(secret, totpCodeAt(secret, current - 1), at)).toBe(current - 1);
      expect(matchTotpStep(secret, totpCodeAt(secret, current + 1), at)).toBe(current + 1);
    }
    // One millisecond into the next step, the code from two steps before is out.
    const early = totpCodeAt(secret, current - 1);
    if (![current, current + 1, current + 2].some((s) => totpCodeAt(secret, s) === early)) {
      expect(matchTotpStep(secret, early, stepEnd + 1)).toBeNull();
    }
  });

  it('new secrets have 160 bits from the CSPRNG, in base32, and differ each time', () => {
    const a = newTotpSecret();
    const b = newTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(a)).toHaveLength(20);
    expect(a).not.toBe(b);
  });

  it('base32 round-trips any bytes', () => {
    for (const length of [0, 1, 5, 19, 20, 33]) {
      const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + 11) & 0xff));
      expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
    }
  });
});

describe('parseTotpCode: only six ASCII digits, after dropping spaces', () => {
  it.each([
    ['123456', '123456'],
    [' 123456 ', '123456'],
    ['123 456', '123456'],
    ['\t012345', '012345'],
  ])('%j → %s', (input, expected) => {
    expect(parseTotpCode(input)).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['only spaces', '      '],
    ['five digits', '12345'],
    ['seven digits', '1234567'],
    ['full-width digits', '１２３４５６'],
    ['Arabic-Indic digits', '١٢٣٤٥٦'],
    ['Devanagari digits', '१२३४५६'],
    ['superscript digits', '¹²³⁴⁵⁶'],
    ['letters', '12345a'],
    ['a sign', '+12345'],
    ['a decimal point', '12345.'],
    ['a newline inside', '123\n456'],
    ['a no-break space inside', '123\u00a0456'],
    ['an array', ['123456']],
    ['an object', { code: '123456' }],
    ['a number', 123456],
    ['null', null],
    ['undefined', undefined],
    ['a huge string', '1'.repeat(100_000)],
  ])('refuses %s', (_name, input) => {
    expect(parseTotpCode(input)).toBeNull();
  });
});

describe('enrollment material', () => {
  it('the otpauth URI carries the issuer, the account label and the RFC parameters', () => {
    const uri = new URL(otpauthUri(secret, 'alice@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Portcullis:alice@example.com');
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret,
      issuer: 'Portcullis',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });

  it('labels with odd characters are encoded, never breaking the URI', () => {
    const uri = otpauthUri(secret, 'bob:evil?secret=AAAA&x');
    expect(uri.startsWith('otpauth://totp/Portcullis:bob%3Aevil%3Fsecret%3DAAAA%26x?')).toBe(true);
    expect(new URL(uri).searchParams.getAll('secret')).toEqual([secret]);
  });

  it('shows the key in groups of four for typing', () => {
    expect(groupedKey('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')).toBe('ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567');
  });

  it('renders the QR code as an SVG data URL', async () => {
    const url = await qrCodeDataUrl(otpauthUri(secret, 'alice'));
    expect(url.startsWith('data:image/svg+xml;base64,')).toBe(true);
    expect(Buffer.from(url.split(',')[1]!, 'base64').toString('utf8')).toContain('<svg');
  });
});
