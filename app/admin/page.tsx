import type { Metadata } from 'next';
import { systemClock } from '../../lib/clock';
import { formatDateTime } from '../../lib/format';
import { requirePermission } from '../../lib/admin/console-guard';
import { countUsersByStatus, mfaStatusNames } from '../../lib/admin/user-directory';
import { AdminShell } from './_components/shell';
import { mfaStatusText } from './_lib/mfa-status';

// Same segment as the admin layout, whose template only reaches the segments below it.
export const metadata: Metadata = { title: { absolute: 'Overview · Portcullis admin' } };

export const dynamic = 'force-dynamic';

const statusFilter: Record<string, string> = {
  enrolled: 'status=active',
  not_enrolled: 'status=not_enrolled',
  enrollment_period: 'status=enrollment_period',
  expired: 'status=expired',
  pre_enrollment: 'status=pre_enrollment',
};

/** The console's front page: where users stand with MFA, and the way to each section. */
export default async function AdminHome() {
  const { session, db } = await requirePermission('console.open', '/admin'); // R-D9
  const counts = await countUsersByStatus(db, systemClock);
  return (
    <AdminShell title="Admin console" session={session} current="/admin">
      <h2>Users by MFA status</h2>
      <table>
        <tbody>
          {mfaStatusNames.map((s) => (
            <tr key={s}>
              <th scope="row">
                <a href={`/admin/users?${statusFilter[s]}`}>{mfaStatusText[s]}</a>
              </th>
              <td>{counts.byStatus[s].toLocaleString('en-US')}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">
              <a href="/admin/users">all users</a>
            </th>
            <td>{counts.total.toLocaleString('en-US')}</td>
          </tr>
        </tbody>
      </table>
      <p className="hint">Counted {formatDateTime(counts.asOf)}; counted again in the background every 30 seconds and after changes.</p>
    </AdminShell>
  );
}
