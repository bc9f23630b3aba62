import { formatDateTime } from '../../../lib/format';
import { readEnv } from '../../../lib/config/env';
import { requirePermission } from '../../../lib/admin/console-guard';
import { getMfaSettings } from '../../../lib/admin/mfa-settings';
import { AdminShell } from '../_components/shell';
import { saveSettingsAction } from './actions';
import { SettingsForm } from './settings-form';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'MFA settings' };

/** R-A1, R-A2: the org's MFA methods and the Duo configuration. */
export default async function SettingsPage() {
  const { session, db } = await requirePermission('settings.view', '/admin/settings'); // R-D9
  const settings = await getMfaSettings(db);
  return (
    <AdminShell title="MFA settings" session={session} current="/admin/settings">
      {settings.updatedAt !== null && <p className="hint">Last saved {formatDateTime(settings.updatedAt)}.</p>}
      <SettingsForm
        action={saveSettingsAction}
        settings={{
          totp: settings.totp,
          webauthn: settings.webauthn,
          duo: settings.duo,
          challengeEnrolled: settings.challengeEnrolled,
          adminReverifyMinutes: settings.adminReverifyMinutes,
          duoClientId: settings.duoConfig.clientId ?? '',
          duoApiHost: settings.duoConfig.apiHost ?? '',
          duoRedirectUri: settings.duoConfig.redirectUri ?? '',
          hasSecret: settings.duoConfig.hasSecret,
          suggestedRedirectUri: `${readEnv().origin}/mfa/duo/callback`,
        }}
      />
    </AdminShell>
  );
}
