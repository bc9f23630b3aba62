/**
 * The audit log in words: one readable line per entry, and its details as labelled values.
 * Pure: the names come in from one query per page (lib/admin/audit-readable.ts).
 */

/** The actions Portcullis writes, with a label for the console's picker and a sentence. */
const actions = {
  'access.denied': ['Access denied', '{actor} was denied access to {target}'],
  'api_key.created': ['API key created', '{actor} created {target}'],
  'api_key.revoked': ['API key revoked', '{actor} revoked {target}'],
  'auth.password_changed': ['Password changed', '{actor} changed their password'],
  'auth.password_reset': ['Password reset through a link', '{actor} set a new password through a reset link'],
  'auth.password_reset_requested': ['Password reset requested', 'A password reset was requested for {target}'],
  'auth.password_set': ['Password set through an invitation', '{actor} set their password through an invitation'],
  'auth.sign_in_failed': ['Sign-in failed', 'A sign-in as {target} failed'],
  'auth.sign_in_refused': ['Sign-in refused', 'A sign-in as {target} was refused'],
  'auth.signed_in': ['Signed in', '{actor} signed in'],
  'auth.signed_out': ['Signed out', '{actor} signed out'],
  'group.created': ['Group created', '{actor} created {target}'],
  'group.deleted': ['Group deleted', '{actor} deleted {target}'],
  'group.members_set': ['Group members changed', '{actor} changed the members of {target}'],
  'group.renamed': ['Group renamed', '{actor} renamed {target}'],
  'mail.resent': ['Email resent', '{actor} resent {target}'],
  'mfa.device_forgotten': ['Remembered device forgotten', '{actor} forgot a remembered device of {target}'],
  'mfa.device_remembered': ['Device remembered', '{actor} chose not to be asked again on a device'],
  'mfa.devices_forgotten': ['Remembered devices forgotten', '{actor} forgot the remembered devices of {target}'],
  'mfa.duo_unavailable': ['Duo unreachable', 'Duo could not be reached for {target}'],
  'mfa.enrollment_skipped': ['MFA setup skipped', '{actor} skipped MFA setup for now'],
  'mfa.factor_added_after_recovery_code': ['Factor added after a recovery code', '{actor} added a sign-in method after using a recovery code'],
  'mfa.factor_enroll_failed': ['Factor setup failed', '{actor} could not add a sign-in method'],
  'mfa.factor_enrolled': ['Factor added', '{actor} added a sign-in method'],
  'mfa.factor_removed': ['Factor removed', '{actor} removed a sign-in method of {target}'],
  'mfa.factor_renamed': ['Factor renamed', '{actor} renamed a sign-in method'],
  'mfa.recovery_code_used': ['Recovery code used', '{actor} signed in with a recovery code'],
  'mfa.recovery_codes_created': ['Recovery codes created', '{actor} got recovery codes'],
  'mfa.recovery_codes_regenerated': ['Recovery codes regenerated', '{actor} generated new recovery codes'],
  'mfa.required': ['MFA required', '{actor} required MFA for {target}'],
  'mfa.requirement_cleared': ['MFA requirement removed', '{actor} removed the MFA requirement of {target}'],
  'mfa.totp_reset': ['TOTP reset', '{actor} reset TOTP for {target}'],
  'mfa.verify_failed': ['Second factor failed', 'A second factor for {target} failed'],
  'mfa.verify_succeeded': ['Second factor passed', '{actor} passed a second factor'],
  'policy.created': ['Policy created', '{actor} created {target}'],
  'policy.deleted': ['Policy deleted', '{actor} deleted {target}'],
  'policy.disabled': ['Policy switched OFF', '{actor} switched {target} OFF'],
  'policy.enabled': ['Policy switched ON', '{actor} switched {target} ON'],
  'policy.updated': ['Policy changed', '{actor} changed {target}'],
  'secrets.resealed': ['Stored secrets re-sealed', '{actor} re-sealed the stored secrets under the newest key'],
  'settings.mfa_saved': ['MFA settings saved', '{actor} saved the MFA settings'],
  'user.created': ['User created', '{actor} created {target}'],
  'user.invitation_resent': ['Invitation resent', '{actor} resent the invitation of {target}'],
  'user.invited': ['User invited', '{actor} invited {target}'],
  'user.password_reset_sent': ['Password reset sent', '{actor} sent a password reset link to {target}'],
  'user.profile_updated': ['Profile changed', '{actor} changed the profile of {target}'],
  'user.role_changed': ['Role changed', '{actor} changed the role of {target}'],
  'user.sessions_revoked': ['Sessions ended', '{actor} ended the sessions of {target}'],
  'user.state_changed': ['User state changed', '{actor} changed the state of {target}'],
  'user.unlocked': ['Sign-in unlocked', '{actor} unlocked sign-in for {target}'],
} as const satisfies Record<string, readonly [string, string]>;

export type KnownAuditAction = keyof typeof actions;

/** Every action the console's picker offers, with its label, in label order. */
export const auditActionOptions: readonly { value: KnownAuditAction; label: string }[] = (Object.keys(actions) as KnownAuditAction[])
  .map((value) => ({ value, label: actions[value][0] as string }))
  .sort((a, b) => a.label.localeCompare(b.label, 'en'));

export function isKnownAuditAction(action: string): action is KnownAuditAction {
  return Object.hasOwn(actions, action);
}

export function auditActionLabel(action: string): string {
  return isKnownAuditAction(action) ? actions[action][0] : action;
}

/** A user as people know them: "Nina New (nina)", or the username alone. */
export interface SubjectName {
  name: string | null;
  username: string | null;
}

export function personName(subject: SubjectName): string {
  if (subject.name && subject.username && subject.name !== subject.username) return `${subject.name} (${subject.username})`;
  return subject.name ?? subject.username ?? 'someone';
}

export interface DescribableEntry {
  action: string;
  actor: { id: string | null; label: string };
  target: { type: string | null; id: string | null };
  details: unknown;
}

/** Names found for a page's ids, by "kind:id" (user:…, policy:…, group:…, api_key:…). */
export type SubjectNames = ReadonlyMap<string, SubjectName>;

export const subjectKey = (kind: string, id: string) => `${kind}:${id}`;

/** The actor in words: a person's name, the CLI, the system, or an API key. */
export function actorText(actor: DescribableEntry['actor'], names: SubjectNames): string {
  const known = actor.id ? names.get(subjectKey('user', actor.id)) : undefined;
  if (known) return personName(known);
  if (actor.label === 'cli') return 'The CLI';
  if (actor.label === 'system') return 'Portcullis';
  if (actor.label.startsWith('api-key:')) return `API key “${actor.label.slice('api-key:'.length)}”`;
  return actor.label;
}

function detailText(details: unknown, key: string): string | null {
  if (details && typeof details === 'object' && !Array.isArray(details)) {
    const value = (details as Record<string, unknown>)[key];
    return typeof value === 'string' && value.length > 0 ? value : null;
  }
  return null;
}

const shortId = (id: string) => (id.length > 8 ? `${id.slice(0, 8)}…` : id);

/** The target in words, by its current name, else what the entry itself recorded. */
export function targetText(entry: DescribableEntry, names: SubjectNames): string {
  const { type, id } = entry.target;
  if (!type) return 'nothing in particular';
  const known = id ? names.get(subjectKey(type, id)) : undefined;
  const recorded = detailText(entry.details, type === 'user' ? 'username' : 'name');
  switch (type) {
    case 'user':
      return known ? personName(known) : recorded ? `${recorded} (deleted)` : id ? `a deleted user (${shortId(id)})` : 'a user';
    case 'policy':
      return `policy “${known?.name ?? recorded ?? (id ? shortId(id) : '?')}”${known || !id ? '' : ' (deleted)'}`;
    case 'group':
      return `group “${known?.name ?? recorded ?? (id ? shortId(id) : '?')}”${known || !id ? '' : ' (deleted)'}`;
    case 'api_key':
      return `API key “${known?.name ?? recorded ?? (id ? shortId(id) : '?')}”`;
    case 'mail':
      return 'an email';
    case 'settings':
      return 'the MFA settings';
    case 'resource':
      return `resource “${id ?? '?'}”`;
    default:
      return id ? `${type} ${id}` : type;
  }
}

/** One readable line, e.g. "Ada Admin (ada) switched policy “Contractors” OFF". */
export function describeAuditEntry(entry: DescribableEntry, names: SubjectNames): string {
  const actor = actorText(entry.actor, names);
  const target = targetText(entry, names);
  const template: string = isKnownAuditAction(entry.action) ? actions[entry.action][1] : `{actor}: ${entry.action}${entry.target.type ? ' on {target}' : ''}`;
  return template.replace('{actor}', actor).replace('{target}', target);
}

/** A detail as shown: a label and either text or a moment (for the viewer's own time zone). */
export type AuditDetail = { label: string; text: string } | { label: string; at: number };

const timeKey = /(At|^at|deadline|Deadline)$/;

function labelOf(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value === '' ? '(empty)' : value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(valueText).join(', ');
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 2 && 'from' in o && 'to' in o) return `${valueText(o.from)} → ${valueText(o.to)}`;
    return keys.map((k) => `${labelOf(k)}: ${valueText(o[k])}`).join('; ');
  }
  return String(value);
}

/** The entry's details as labelled values, never raw JSON; times stay numbers for the formatter. */
export function auditDetails(details: unknown): AuditDetail[] {
  if (details === null || details === undefined) return [];
  if (typeof details !== 'object' || Array.isArray(details)) return [{ label: 'Details', text: valueText(details) }];
  return Object.entries(details as Record<string, unknown>).map(([key, value]): AuditDetail => {
    const label = labelOf(key);
    return timeKey.test(key) && typeof value === 'number' && Number.isFinite(value) ? { label, at: value } : { label, text: valueText(value) };
  });
}
