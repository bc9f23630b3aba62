import { redirect } from 'next/navigation';
import { getDb } from '../../../db';
import { systemClock } from '../../../lib/clock';
import { formatDateTime } from '../../../lib/format';
import { getAccessContext } from '../../../lib/gate';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { readRecoveryCodesToShow } from '../../../lib/factors/cookies';
import { recoveryCodesAdvice, recoveryCodesDone, recoveryCodesText, takeRecoveryCodesToShow } from '../../../lib/factors/recovery-codes-display';
import { acknowledgeRecoveryCodes } from './actions';
import { CopyCodesButton, PrintButton } from './tools';
import styles from './recovery-codes.module.css';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Recovery codes' };

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/**
 * The recovery codes, shown once: right after the first enrollment or a regeneration.
 * They come from a sealed, ten-minute cookie whose single-use nonce this render spends
 * (lib/factors/recovery-codes-display.ts); the database has only their hashes, so a
 * reload, or anybody else, cannot show them again.
 */
export default async function RecoveryCodesPage({ searchParams }: { searchParams: SearchParams }) {
  const returnTo = safeReturnPath((await searchParams).returnTo);
  const { session } = await getAccessContext();
  if (!session) redirect(`/login?returnTo=${encodeURIComponent(returnTo)}`);
  const db = await getDb();
  const shown = await takeRecoveryCodesToShow(db.kysely, await readRecoveryCodesToShow(session.userId), systemClock);

  if (!shown) {
    return (
      <main id="main">
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

  const { codes, cause } = shown;
  const text = recoveryCodesText(session.username, codes, formatDateTime(systemClock.now()));
  return (
    <main id="main">
      <h1>Save your recovery codes</h1>
      <p className={`notice ${styles.noPrint}`} role="status" data-testid="setup-done">
        {recoveryCodesDone[cause]}
      </p>
      <p className="notice">
        {recoveryCodesAdvice[cause]} Store them somewhere safe, such as a password manager. This is the only time they are
        shown: reloading this page will not show them again.
      </p>
      <ol data-testid="recovery-codes" className={styles.codes}>
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div className={`${styles.tools} ${styles.noPrint}`}>
        {/* A data URL: the download works without JavaScript and without another request for the codes. */}
        <a className={styles.download} href={`data:text/plain;charset=utf-8,${encodeURIComponent(text)}`} download="portcullis-recovery-codes.txt">
          Download as .txt
        </a>
        <CopyCodesButton text={codes.join('\n')} />
        <PrintButton />
      </div>
      <form action={acknowledgeRecoveryCodes} className={styles.noPrint}>
        <input type="hidden" name="returnTo" value={returnTo} />
        <input type="hidden" name="cause" value={cause} />
        <button type="submit">I saved my recovery codes, continue</button>
      </form>
    </main>
  );
}
