import { systemClock } from '../../../lib/clock';
import { formatDateTime } from '../../../lib/format';
import { requirePermission } from '../../../lib/admin/console-guard';
import { listApiKeys, maxApiKeyDays } from '../../../lib/admin/api-keys';
import { ConfirmAction } from '../_components/fields';
import { AdminShell } from '../_components/shell';
import { SimpleForm } from '../_components/simple-form';
import { createApiKeyAction, revokeApiKeyAction } from './actions';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'API keys' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** Bearer keys for the REST API (/api/v1): created here or with the CLI, stored hashed. */
export default async function ApiKeysPage({ searchParams }: { searchParams: SearchParams }) {
  const { session, db } = await requirePermission('api_keys.manage', '/admin/api-keys'); // R-D9
  const query = await searchParams;
  const keys = await listApiKeys(db);
  const now = systemClock.now();
  return (
    <AdminShell title="API keys" session={session} current="/admin/api-keys">
      {query.done === 'revoked' && (
        <p className="notice" role="status">
          Key revoked: requests with it are refused from now on.
        </p>
      )}
      <h2>New key</h2>
      <SimpleForm
        label="New API key"
        action={createApiKeyAction}
        submit="Create key"
        secretLabel="Your new API key"
        copyLabel="Copy the API key"
        fields={[
          { name: 'name', label: 'Key name', hint: 'What uses it, e.g. "provisioning".' },
          {
            name: 'role',
            label: 'Access',
            kind: 'select',
            defaultValue: 'read',
            options: [
              { value: 'read', label: 'Read only' },
              { value: 'helpdesk', label: 'Helpdesk (users: read, reset TOTP, invitations, password resets)' },
              { value: 'admin', label: 'Admin (read and change)' },
            ],
            hint: 'Give admin access only to what must change users, policies or settings.',
          },
          {
            name: 'expiresInDays',
            label: 'Expires after (days)',
            defaultValue: '90',
            hint: `A whole number of days from 1 to ${maxApiKeyDays}. Leave it empty for a key that does not expire.`,
          },
        ]}
      />
      <h2>Keys</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key starts with</th>
            <th scope="col">Access</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {keys.length === 0 ? (
            <tr>
              <td colSpan={7}>No API keys.</td>
            </tr>
          ) : (
            keys.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.role}</td>
                <td>{formatDateTime(k.createdAt)}</td>
                <td>{k.expiresAt === null ? 'Never' : formatDateTime(k.expiresAt)}</td>
                <td>{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : 'Never'}</td>
                <td>
                  {k.expiresAt !== null && k.expiresAt <= now && !k.revokedAt && <p>Expired: requests with it are refused.</p>}
                  {k.revokedAt ? (
                    `Revoked ${formatDateTime(k.revokedAt)}`
                  ) : (
                    <ConfirmAction
                      summary="Revoke…"
                      action={revokeApiKeyAction}
                      fields={{ keyId: k.id }}
                      label={`Revoke key ${k.name}`}
                    />
                  )}
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </AdminShell>
  );
}
