import { signOut } from '../portal/actions';

/**
 * The one "Sign out" button: a server action, so it works without JavaScript and ends the
 * session row, not just the cookie (lib/auth/sign-out.ts). Every page a signed-in person can
 * be stuck on (Set Up, denied, locked, the console) offers it.
 */
export function SignOutButton({ secondary = true }: { secondary?: boolean }) {
  return (
    <form action={signOut} className="sign-out">
      <button type="submit" className={secondary ? 'secondary' : undefined}>
        Sign out
      </button>
    </form>
  );
}
