import { redirect } from 'next/navigation';
import { getAccessContext } from '../../../lib/gate';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { readRecoveryCodesToShow } from '../../../lib/factors/cookies';
import { acknowledgeRecoveryCodes } from './actions';

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/**
 * The recovery codes, shown once: right after the first enrollment or a regeneration.
 * They come from a sealed, ten-minute cookie that "Continue" deletes; the database has
 * only their hashes, so nobody can show them again.
 */
export default async function RecoveryCodesPage({ searchParams }: { searchParams: SearchParams }) {
  const returnTo = safeReturnPath((await searchParams).returnTo);
  const { session } = await getAccessContext();
  if (!session) redirect(`/login?returnTo=${encodeURIComponent(returnTo)}`);
  const codes = await readRecoveryCodesToShow(session.userId);

  if (!codes) {
    return (
      <main>
        <h1>Recovery codes</h1>
        <p>
          Recovery codes are shown only once. If you did not save yours, make a new set on your{' '}
          <a href="/portal/security">Security</a> page: that voids the old ones.
        </p>
        <p>
          <a href={returnTo}>Continue</a>
        </p>
      </main>
    );
  }

  return (
    <main>
      <h1>Save your recovery codes</h1>
      <p className="notice">
        If you lose your phone, each of these codes lets you sign in once. Store them somewhere safe, such as a password
        manager. This is the only time they are shown.
      </p>
      <ol data-testid="recovery-codes" style={{ columns: 2, fontFamily: 'ui-monospace, monospace', fontSize: '1.1rem' }}>
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <form action={acknowledgeRecoveryCodes}>
        <input type="hidden" name="returnTo" value={returnTo} />
        <button type="submit">I saved my recovery codes, continue</button>
      </form>
    </main>
  );
}
