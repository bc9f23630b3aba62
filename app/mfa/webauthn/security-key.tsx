'use client';

import { rememberBoxId } from '../remember-box';
import { useEffect, useState, type FormEvent } from 'react';
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '@simplewebauthn/browser';

/**
 * The browser half of WebAuthn (it cannot work without JavaScript): ask the server for
 * options, hand them to the authenticator, post the answer back, follow the server's
 * redirect. The server decides everything; this only carries messages.
 */

const messages = {
  unsupported: 'This browser cannot use security keys or passkeys. Use another method.',
  cancelled: 'The security key prompt was closed or timed out. Try again.',
  failed: 'Something went wrong. Try again.',
} as const;

interface Answer {
  status: number;
  data: { redirectTo?: string; message?: string; options?: unknown };
}

async function post(path: string, body: unknown): Promise<Answer> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as Answer['data'];
  return { status: res.status, data };
}

/** Runs one ceremony; returns an error message, or null after navigating away. */
async function ceremony(
  base: '/mfa/webauthn/register' | '/mfa/webauthn/authenticate',
  body: Record<string, unknown>,
  run: (options: never) => Promise<unknown>,
): Promise<string | null> {
  if (!browserSupportsWebAuthn()) return messages.unsupported;
  const start = await post(`${base}/options`, body);
  if (start.status !== 200 || !start.data.options) {
    if (start.data.redirectTo) {
      window.location.assign(start.data.redirectTo);
      return null;
    }
    return start.data.message ?? messages.failed;
  }
  let response: unknown;
  try {
    response = await run(start.data.options as never);
  } catch {
    return messages.cancelled;
  }
  const done = await post(`${base}/verify`, { ...body, response });
  if (done.data.redirectTo) {
    window.location.assign(done.data.redirectTo);
    return null;
  }
  return done.data.message ?? messages.failed;
}

/** Enabled only once hydrated: a click before that would do nothing. */
function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}

export function UseSecurityKeyButton({
  returnTo,
  fresh = false,
  label = 'Use security key',
  className,
}: {
  returnTo: string;
  fresh?: boolean;
  label?: string;
  className?: string;
}) {
  const hydrated = useHydrated();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function onClick() {
    setBusy(true);
    setError(null);
    try {
      // Issue 18 part 3: the verify page's "Don't ask again on this device" box, wherever it sits.
      const remember = (document.getElementById(rememberBoxId) as HTMLInputElement | null)?.checked === true;
      setError(await ceremony('/mfa/webauthn/authenticate', { returnTo, fresh, remember }, (optionsJSON) => startAuthentication({ optionsJSON })));
    } catch {
      setError(messages.failed);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div>
      <button type="button" className={className} onClick={onClick} disabled={!hydrated || busy}>
        {label}
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <noscript>
        <p className="notice">Security keys need JavaScript. Turn it on, or use another method.</p>
      </noscript>
    </div>
  );
}

export function RegisterSecurityKey({
  returnTo,
  submitLabel = 'Register security key',
  defaultName = 'Security key',
}: {
  returnTo: string;
  submitLabel?: string;
  defaultName?: string;
}) {
  const hydrated = useHydrated();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const name = new FormData(event.currentTarget).get('name');
    setBusy(true);
    setError(null);
    try {
      setError(await ceremony('/mfa/webauthn/register', { returnTo, name }, (optionsJSON) => startRegistration({ optionsJSON })));
    } catch {
      setError(messages.failed);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit}>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <label htmlFor="key-name">Key name</label>
      <input id="key-name" name="name" type="text" maxLength={64} placeholder={defaultName} autoComplete="off" />
      <button type="submit" disabled={!hydrated || busy}>
        {submitLabel}
      </button>
      <noscript>
        <p className="notice">Security keys need JavaScript. Turn it on, or choose another method.</p>
      </noscript>
    </form>
  );
}
