import { authenticator } from 'otplib';

/** The TOTP step length every spec's authenticator app uses (RFC 6238 default). */
export const stepMs = 30_000;

/** The code an authenticator app shows for `step` (otplib, RFC 6238 defaults: SHA-1, 6 digits, 30 s). */
export function codeAt(secret: string, step: number): string {
  return authenticator.clone({ epoch: step * stepMs }).generate(secret);
}

export const currentStep = (): number => Math.floor(Date.now() / stepMs);

/** A code no step near now produces (never 000000, which a log could contain by chance). */
export function wrongCode(secret: string): string {
  const near = new Set([-2, -1, 0, 1, 2].map((o) => codeAt(secret, currentStep() + o)));
  for (let n = 1; ; n++) {
    const candidate = String(n * 137_731).padStart(6, '0').slice(-6);
    if (!near.has(candidate)) return candidate;
  }
}

/**
 * An authenticator app for one secret, as a person uses it over several sign-ins: each code
 * is for a time step not used yet (each step signs in once, R-I3). The portal accepts one
 * step ahead, so the first code after a used step is the next step's; beyond that, it waits
 * until the clock is within one step of it, as a person waits for the next code.
 */
export function authenticatorApp(secret: string) {
  let lastStep = 0;
  return {
    async nextCode(): Promise<string> {
      const step = Math.max(currentStep(), lastStep + 1);
      while (currentStep() < step - 1) await new Promise((r) => setTimeout(r, 250));
      lastStep = step;
      return codeAt(secret, step);
    },
    /** Marks `step` as used by the caller (a code typed outside nextCode). */
    used(step: number) {
      lastStep = Math.max(lastStep, step);
    },
  };
}
