import { describe, expect, it } from 'vitest';
import { freeGuesses, guessDelayMs, maxDelayMs } from '@/lib/auth/mfa-throttle';

describe('second-factor backoff', () => {
  it.each([
    [1, 0],
    [4, 0],
    [5, 30_000],
    [6, 60_000],
    [7, 120_000],
    [11, 32 * 60_000],
    [12, 60 * 60_000],
    [500, 60 * 60_000],
  ])('after guess %i the next waits %i ms', (guesses, delay) => {
    expect(guessDelayMs(guesses)).toBe(delay);
  });

  it(`allows ${freeGuesses + 1} guesses before the first wait, and never waits more than an hour (R-I2)`, () => {
    expect(guessDelayMs(freeGuesses)).toBe(0);
    expect(guessDelayMs(freeGuesses + 1)).toBeGreaterThan(0);
    expect(Math.max(...Array.from({ length: 1000 }, (_, i) => guessDelayMs(i)))).toBe(maxDelayMs);
  });

  it('an attacker guessing as fast as allowed gets well under 100 guesses a day (NIST SP 800-63B)', () => {
    let t = 0;
    let guesses = 0;
    while (t < 86_400_000) {
      guesses++;
      t += guessDelayMs(guesses);
    }
    expect(guesses).toBeLessThan(40);
  });
});
