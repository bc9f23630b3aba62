import { destinationFor } from '../../../lib/gate/access';
import type { Decision } from '../../../lib/policy';
import { verifyPath } from '../verify/paths';

/**
 * Where a setup page sends someone it won't serve: not signed in (sign in, then come back
 * `here`), a factor but no fresh second factor (verify, then come back), or not theirs to
 * set up at all (wherever the gate's decision for `returnTo` leads).
 */
export function setupRedirect(reason: 'signed_out' | 'verify_first' | 'elsewhere', decision: Decision | null, returnTo: string, here: string): string {
  switch (reason) {
    case 'signed_out':
      return `/login?returnTo=${encodeURIComponent(here)}`;
    case 'verify_first':
      return verifyPath({ returnTo: here, fresh: true });
    case 'elsewhere':
      return (decision && destinationFor(decision, returnTo)) ?? returnTo;
  }
}
