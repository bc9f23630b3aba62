import { SignOutButton } from '../_components/sign-out';

/** 403 for anyone signed in without the admin role (forbidden() in lib/admin/console-guard.ts). */
export default function AdminForbidden() {
  return (
    <main id="main">
      <h1>403 – Forbidden</h1>
      <p>The admin console is for administrators. Your account does not have that role.</p>
      <div className="way-out">
        <a href="/portal">Back to the User Portal</a>
        <SignOutButton />
      </div>
    </main>
  );
}
