import type { Metadata } from 'next';
import { cookies } from 'next/headers';
import { notFound } from 'next/navigation';
import { getDb } from '../../../../db';
import { systemClock } from '../../../../lib/clock';
import { accountLinkCookie, accountLinkDoneOf } from '../../../../lib/auth/account-link-cookie';
import { linkForPage } from '../../../../lib/auth/set-password-by-link';
import { minPasswordLengthFor } from '../../../../lib/auth/password-policy';
import { formatDateTime } from '../../../../lib/format';
import { setPasswordAction } from './actions';
import { Done, SetPasswordForm } from './form';
import { LinkRefused } from './link-refused';
import { doneState, linkPageMessages } from './messages';

export const metadata: Metadata = { title: 'Set your password' };

export const dynamic = 'force-dynamic';

/**
 * The page an invitation or reset link leads to (through app/account/password/route.ts). Public:
 * the link is the credential, so no session is asked for, and the link's state is checked
 * here and again, atomically, when the password is set.
 */
export default async function SetPasswordPage() {
  const token = (await cookies()).get(accountLinkCookie().name)?.value;
  const done = accountLinkDoneOf(token);
  if (done) {
    return (
      <main id="main">
        <Done {...doneState[done]} />
      </main>
    );
  }
  const db = await getDb();
  const link = await linkForPage(db.kysely, token, systemClock);
  if (link.state === 'unknown') notFound();
  return <main id="main">{link.state === 'open' ? <OpenLink {...link} /> : <LinkRefused {...linkPageMessages[link.state]} />}</main>;
}

function OpenLink({ purpose, username, hasSecondFactor, expiresAt }: { purpose: 'invitation' | 'password_reset'; username: string; hasSecondFactor: boolean; expiresAt: number }) {
  const min = minPasswordLengthFor({ hasSecondFactor });
  const rules =
    `Use at least ${min} characters; any characters count, spaces and emoji too. ` +
    'Common and breached passwords are refused. A long phrase you can remember works well.';
  return (
    <>
      <h1>{purpose === 'invitation' ? 'Welcome to Portcullis: set your password' : 'Set a new password'}</h1>
      <p>
        For the account <strong data-testid="link-username">{username}</strong>. This link works once, until {formatDateTime(expiresAt)}.
      </p>
      {purpose === 'password_reset' && <p>Afterwards you sign in again with the new password, and with your second factor if you have one.</p>}
      <SetPasswordForm action={setPasswordAction} username={username} rules={rules} submit={purpose === 'invitation' ? 'Set password and sign in' : 'Set new password'} />
    </>
  );
}
