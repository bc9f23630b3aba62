import type { Migration } from 'kysely';
import type { DialectName } from '../url';
import { foundation } from './001-foundation';
import { mfaPolicy } from './002-mfa-policy';
import { totp } from './003-totp';
import { webauthnDuo } from './004-webauthn-duo';
import { mail } from './005-mail';
import { admin } from './006-admin';
import { userSearch } from './007-user-search';
import { startNotice } from './008-start-notice';
import { searchKeyOrder } from './009-search-key-order';
import { guessSources } from './010-guess-sources';
import { ownFactorChallenge } from './011-own-factor-challenge';
import { derivedAssurance } from './012-derived-assurance';
import { accountTokens } from './013-account-tokens';
import { emailLookup } from './014-email-lookup';
import { signInAndKeyExpiry } from './015-sign-in-and-key-expiry';
import { authStrength } from './016-auth-strength';
import { helpdeskRole } from './017-helpdesk-role';
import { rememberedDevices } from './018-remembered-devices';
import { policyGrace } from './019-policy-grace';

/** Ordered by name; a new migration is a new entry, never an edit of a shipped one. */
export function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '001-foundation': foundation(dialect),
    '002-mfa-policy': mfaPolicy(dialect),
    '003-totp': totp(dialect),
    '004-webauthn-duo': webauthnDuo(dialect),
    '005-mail': mail(dialect),
    '006-admin': admin(dialect),
    '007-user-search': userSearch(dialect),
    '008-start-notice': startNotice(dialect),
    '009-search-key-order': searchKeyOrder(dialect),
    '010-guess-sources': guessSources(dialect),
    '011-own-factor-challenge': ownFactorChallenge(dialect),
    '012-derived-assurance': derivedAssurance(dialect),
    '013-account-tokens': accountTokens(dialect),
    '014-email-lookup': emailLookup(dialect),
    '015-sign-in-and-key-expiry': signInAndKeyExpiry(dialect),
    '016-auth-strength': authStrength(dialect),
    '017-helpdesk-role': helpdeskRole(dialect),
    '018-remembered-devices': rememberedDevices(dialect),
    '019-policy-grace': policyGrace(dialect),
  };
}
