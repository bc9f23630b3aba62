import type { SetupWayOut } from '../../../lib/factors/setup-way-out';
import { SignOutButton } from '../../_components/sign-out';

/** The foot of a setup step: Cancel, or for a forced Set Up, sign out (lib/factors/setup-way-out.ts). */
export function SetupWayOutLinks({ wayOut }: { wayOut: SetupWayOut }) {
  if (wayOut.kind === 'cancel') {
    return (
      <p className="way-out">
        <a href={wayOut.href}>Cancel</a>
      </p>
    );
  }
  return (
    <div className="way-out">
      {wayOut.otherMethodsHref && <a href={wayOut.otherMethodsHref}>Choose another method</a>}
      <span>Can’t set it up now?</span>
      <SignOutButton />
    </div>
  );
}
