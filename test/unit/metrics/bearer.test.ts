import { describe, expect, it } from 'vitest';
import { bearerTokenOf, metricsAccess, metricsTokenOf, sameToken } from '../../../lib/metrics/bearer';

/*
 * Who may read /metrics. Personas: Prometheus, configured with the token; Mallory, who
 * guesses, sends another scheme, or a token one character off.
 */
const token = 'scrape-token-0123456789abcdef0123456789';

describe('the metrics bearer check', () => {
  it('is off (404) while PORTCULLIS_METRICS_TOKEN is unset or empty', () => {
    expect(metricsTokenOf({})).toBeNull();
    expect(metricsTokenOf({ PORTCULLIS_METRICS_TOKEN: '' })).toBeNull();
    expect(metricsAccess(`Bearer ${token}`, null)).toBe('disabled');
    expect(metricsTokenOf({ PORTCULLIS_METRICS_TOKEN: token })).toBe(token);
  });

  it('lets Prometheus in with the token, whatever the scheme’s case', () => {
    expect(metricsAccess(`Bearer ${token}`, token)).toBe('allowed');
    expect(metricsAccess(`bearer ${token}`, token)).toBe('allowed');
    expect(metricsAccess(`BEARER  ${token} `, token)).toBe('allowed');
  });

  it('refuses Mallory without the header, with another scheme, a near miss, a prefix, or the token with more after it', () => {
    for (const header of [
      null,
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Basic ${Buffer.from(`prometheus:${token}`).toString('base64')}`,
      `Bearer ${token.slice(0, -1)}x`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}x`,
      `Bearer ${token} ${token}`,
      `Bearer ${token}\n`,
      `Token ${token}`,
      token,
    ]) {
      expect(metricsAccess(header, token), String(header)).toBe('unauthorized');
    }
  });

  it('reads the token of a Bearer header: one word of visible ASCII', () => {
    expect(bearerTokenOf('Bearer abc.DEF-_~+/==')).toBe('abc.DEF-_~+/==');
    expect(bearerTokenOf('Bearer a"b!c')).toBe('a"b!c');
    expect(bearerTokenOf('Bearer a b')).toBeNull();
    expect(bearerTokenOf('Bearer é')).toBeNull();
    expect(bearerTokenOf(`Bearer ${'a'.repeat(2000)}`)).toBeNull();
  });

  it('compares over digests, so tokens of different lengths compare without throwing', () => {
    expect(sameToken('a', 'a')).toBe(true);
    expect(sameToken('a', 'ab')).toBe(false);
    expect(sameToken('', token)).toBe(false);
  });
});
