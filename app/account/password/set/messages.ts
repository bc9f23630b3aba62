import type { LinkRefusal } from '../../../../lib/auth/set-password-by-link';

/** What the form's action answers (types and texts only: the client form imports this file). */
export interface SetPasswordFormState {
  error?: string | null;
  /** The link can no longer be used: the page shows why instead of the form. */
  link?: LinkRefusal | 'not_allowed';
  /**
   * Done: where the browser goes next, by a full page load (the form follows it), so the
   * request passes through the gate as after the sign-in post. A server action's redirect
   * would render the next page inside the action's response, and a gate redirect from there
   * (to Set Up) leaves the address bar on the wrong page.
   */
  next?: '/portal' | '/login?notice=password_reset';
  message?: string;
}

export const initialSetPasswordState: SetPasswordFormState = {};

const whatToDo = 'For a password reset, ask for a new link from the sign-in page. For an invitation, ask your administrator to send a new one.';

/** One clear page per state of a link that cannot be used. */
export const linkPageMessages: Record<LinkRefusal | 'not_allowed', { title: string; body: string }> = {
  expired: { title: 'This link has expired', body: `Links to set a password are valid for a limited time. ${whatToDo}` },
  used: {
    title: 'This link was already used',
    body: `A link sets a password once. If that was you, sign in with your password. If it was not, ask for a new link now. ${whatToDo}`,
  },
  voided: { title: 'A newer link replaced this one', body: `Use the link in the most recent message you received. ${whatToDo}` },
  unknown: { title: 'This link is not valid', body: `Check that you opened the whole link from the message. ${whatToDo}` },
  not_allowed: { title: 'This account cannot sign in', body: 'Contact your administrator.' },
};

/** After the password is set: where to go, and what to say meanwhile. */
export const doneState = {
  invitation: { next: '/portal', message: 'Your password is set and you are signed in.' },
  password_reset: { next: '/login?notice=password_reset', message: 'Your password was changed. Sign in with your new password.' },
} as const satisfies Record<string, SetPasswordFormState>;
