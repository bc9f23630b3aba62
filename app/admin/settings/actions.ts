'use server';

import { revalidatePath } from 'next/cache';
import { systemClock } from '../../../lib/clock';
import { requirePermission } from '../../../lib/admin/console-guard';
import { saveMfaSettings } from '../../../lib/admin/mfa-settings';
import { sealDuoClientSecret } from '../../../lib/factors/duo';
import { refusal, text } from '../_lib/actions';
import type { FormState } from '../_lib/form-state';

const fieldNames = {
  'duoConfig.clientId': 'duoClientId',
  'duoConfig.clientSecret': 'duoClientSecret',
  'duoConfig.apiHost': 'duoApiHost',
  'duoConfig.redirectUri': 'duoRedirectUri',
};

/**
 * R-A1, R-A2: org MFA methods and the Duo configuration. The client secret is write-only:
 * blank keeps the stored one, a new one is sealed (lib/crypto) before it is stored, and it
 * is never sent back to the page, not even when the form is refused.
 */
export async function saveSettingsAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor } = await requirePermission('settings.manage', '/admin/settings'); // R-D9
  const on = (name: string) => text(formData, name) === 'on';
  const secret = text(formData, 'duoClientSecret');
  const values = {
    totp: on('totp') ? 'on' : '',
    webauthn: on('webauthn') ? 'on' : '',
    duo: on('duo') ? 'on' : '',
    challengeEnrolled: on('challengeEnrolled') ? 'on' : '',
    adminReverifyMinutes: text(formData, 'adminReverifyMinutes'),
    duoClientId: text(formData, 'duoClientId'),
    duoApiHost: text(formData, 'duoApiHost'),
    duoRedirectUri: text(formData, 'duoRedirectUri'),
  };
  try {
    await saveMfaSettings(
      db,
      {
        totp: on('totp'),
        webauthn: on('webauthn'),
        duo: on('duo'),
        challengeEnrolled: on('challengeEnrolled'), // R-D11
        // Issue 18: blank keeps the stored value; anything but a whole number goes on as text, to be refused.
        ...(values.adminReverifyMinutes.trim() === ''
          ? {}
          : { adminReverifyMinutes: /^\d{1,9}$/.test(values.adminReverifyMinutes.trim()) ? Number(values.adminReverifyMinutes.trim()) : values.adminReverifyMinutes }),
        duoConfig: {
          clientId: values.duoClientId,
          ...(secret ? { clientSecret: secret } : {}),
          apiHost: values.duoApiHost,
          redirectUri: values.duoRedirectUri,
        },
      },
      actor,
      systemClock,
      { sealSecret: (plain) => sealDuoClientSecret(plain) },
    );
  } catch (err) {
    return refusal(err, values, fieldNames);
  }
  revalidatePath('/admin/settings');
  return { ok: 'MFA settings saved. They apply from each user’s next request.' };
}
