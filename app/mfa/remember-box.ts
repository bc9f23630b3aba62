/**
 * The id of the verify page's "Don't ask again on this device" checkbox (issue 18 part 3):
 * the page renders it, the security-key button (a client component) reads it. A plain module
 * so both sides import the same string, not a client reference.
 */
export const rememberBoxId = 'remember-device';
