import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { mfaPageAccess } from '../../../lib/gate';
import { formatDateTime } from '../../../lib/format';
import { signOut } from '../../portal/actions';

export const metadata: Metadata = { title: 'Account locked' };

export const dynamic = 'force-dynamic';

export default async function LockedPage() {
  const { decision } = await mfaPageAccess('/portal');
  if (decision.kind !== 'locked') redirect('/portal');
  return (
    <main id="main">
      <h1>Your account is locked</h1>
      <p role="alert">
        Your multi-factor enrollment period ended
        {decision.expiredAt ? ` on ${formatDateTime(decision.expiredAt)}` : ''} before you set up an authenticator app.
      </p>
      <p>Contact your administrator: they can reset your enrollment and give you a new period to set it up.</p>
      <form action={signOut}>
        <button type="submit" className="secondary">
          Sign out
        </button>
      </form>
    </main>
  );
}
