// `npm run cli -- <command> [--flag value]…`: operator tasks that need no running server.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDb, migrateToLatest } from '../db';
import { readEnv } from '../lib/config/env';
import { systemClock } from '../lib/clock';
import { cliActor } from '../lib/admin/actor';
import { createUser } from '../lib/admin/users';
import { createApiKey } from '../lib/admin/api-keys';
import { resetTotpEnrollment, resetTotpSummary as resetSummary } from '../lib/admin/mfa-requirements';
import { sendPasswordReset } from '../lib/admin/password-reset';
import { userIdOfUsername } from '../lib/admin/user-lookup';
import { changeUserRole } from '../lib/admin/user-role';
import { updateUserProfile } from '../lib/admin/user-profile';
import { resendInvitation } from '../lib/admin/invitations';
import { isConflictError, isNotFoundError, isValidationError } from '../lib/errors/brand';
import { defaultKeyring, type Keyring } from '../lib/crypto/secret-box';
import { auditSecretRotation, maxRotationBatchSize, rotateSealedSecrets, rotationSummary } from '../lib/admin/secret-rotation';
import { checkConfigAtStart } from '../lib/config/start-check';
import { effectiveConfig, formatEffectiveConfig } from '../lib/config/effective';
import type { CheckedConfig } from '../lib/config/schema';
import { backupSqliteDatabase } from '../db/backup';

const usage = `Usage:
  npm run cli -- create-admin --username NAME --password PASSWORD [--email EMAIL] [--display-name "FULL NAME"]
  npm run cli -- create-user --username NAME --password PASSWORD [--email EMAIL] [--display-name "FULL NAME"] [--state active|staged|suspended]
  npm run cli -- create-user --username NAME --email EMAIL --invite [--display-name "FULL NAME"] [--state active|staged]   (the user sets their own password)
  npm run cli -- set-display-name --username NAME --display-name "FULL NAME"   (an empty name clears it)
  npm run cli -- invite USERNAME   (a new invitation to a user who has not set a password; the older link stops working)
  npm run cli -- create-api-key --name NAME [--role read|helpdesk|admin] [--expires-in-days 1-730]   (read only unless --role says otherwise; no expiry unless given)
  npm run cli -- set-role --username NAME --role user|helpdesk|admin   (audited; the last admin cannot be demoted)
  npm run cli -- reset-totp --username NAME [--days 1-365]   (removes the user's authenticator apps, starts a new enrollment period)
  npm run cli -- send-password-reset USERNAME                  (or --username NAME: a 30-minute link to the user's own address)
  npm run cli -- rotate-secrets [--batch-size 1-${maxRotationBatchSize}]   (re-seals stored secrets under the newest PORTCULLIS_SECRET; README "Rotating the secret")
  npm run cli -- check-config   (every variable's effective value and where it came from, secrets masked; exit 78 when one is bad)
  npm run cli -- backup FILE    (a checked copy of the SQLite database, the server may be running; never overwrites FILE)`;

async function main(): Promise<number> {
  // Every command, check-config too: a bad variable ends the process here (one line, exit 78).
  const config = checkConfigAtStart();
  const [command, ...rest] = process.argv.slice(2);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      invite: { type: 'boolean' },
      username: { type: 'string' },
      password: { type: 'string' },
      email: { type: 'string' },
      state: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      days: { type: 'string' },
      'display-name': { type: 'string' },
      'expires-in-days': { type: 'string' },
      'batch-size': { type: 'string' },
    },
  });
  // Only these take their username (or file) as a plain argument; anything else stray is a mistake.
  const takesOne = command === 'invite' || command === 'send-password-reset' || command === 'backup';
  if (positionals.length > (takesOne ? 1 : 0)) {
    console.error(usage);
    return 2;
  }
  // These two never open the database through the app's handle (nor migrate it).
  if (command === 'check-config') {
    console.log('The configuration is valid. Effective values (secrets masked):');
    for (const line of formatEffectiveConfig(effectiveConfig(config, process.env))) console.log(`  ${line}`);
    return 0;
  }
  if (command === 'backup') return backup(config, positionals[0]);
  const db = createDb(readEnv().databaseUrl);
  try {
    await migrateToLatest(db);
    switch (command) {
      case 'create-admin':
      case 'create-user': {
        const { id } = await createUser(
          db.kysely,
          {
            username: values.username,
            password: values.password,
            email: values.email,
            ...(values['display-name'] !== undefined ? { displayName: values['display-name'] } : {}),
            state: values.state ?? 'active',
            role: command === 'create-admin' ? 'admin' : 'user',
            ...(values.invite ? { invite: true } : {}),
          },
          cliActor,
          systemClock,
        );
        console.log(
          `Created ${command === 'create-admin' ? 'admin' : 'user'} ${values.username} (${id})` +
            (values.invite ? ((values.state ?? 'active') === 'staged' ? '; the invitation is sent when they are activated' : '; invitation queued') : ''),
        );
        return 0;
      }
      case 'invite': {
        const username = positionals[0] ?? values.username;
        const userId = await userIdOfUsername(db.kysely, username);
        const { expiresAt } = await resendInvitation(db.kysely, userId, cliActor, systemClock);
        console.log(
          expiresAt === null
            ? `New invitation for ${username}: sent when they are activated`
            : `Invitation queued for ${username}, valid until ${new Date(expiresAt).toISOString()}`,
        );
        return 0;
      }
      case 'set-display-name': {
        if (values.username === undefined || values['display-name'] === undefined) {
          console.error(usage);
          return 2;
        }
        const userId = await userIdOfUsername(db.kysely, values.username);
        const { changed } = await updateUserProfile(db.kysely, userId, { displayName: values['display-name'] }, cliActor, systemClock);
        const name = values['display-name'].trim();
        console.log(
          changed.length === 0
            ? `Display name of ${values.username} unchanged.`
            : name === ''
              ? `Display name of ${values.username} cleared.`
              : `Display name of ${values.username} is now “${name}”.`,
        );
        return 0;
      }
      case 'create-api-key': {
        const days = values['expires-in-days'];
        const created = await createApiKey(
          db.kysely,
          {
            name: values.name,
            ...(values.role !== undefined ? { role: values.role } : {}),
            // Whole numbers reach the schema as numbers; anything else as text, refused there.
            ...(days !== undefined ? { expiresInDays: /^\d{1,9}$/.test(days) ? Number(days) : days } : {}),
          },
          cliActor,
          systemClock,
        );
        console.log(
          `API key with ${created.role === 'read' ? 'read-only' : created.role} access, ` +
            (created.expiresAt === null ? 'no expiry' : `valid until ${new Date(created.expiresAt).toISOString()}`) +
            ' (shown once, store it now):',
        );
        console.log(created.key);
        return 0;
      }
      case 'set-role': {
        if (values.username === undefined || values.role === undefined) {
          console.error(usage);
          return 2;
        }
        const userId = await userIdOfUsername(db.kysely, values.username);
        const { changed, role } = await changeUserRole(db.kysely, userId, values.role, cliActor, systemClock);
        console.log(changed ? `${values.username} is now ${role}.` : `${values.username} was already ${role}.`);
        return 0;
      }
      case 'reset-totp': {
        const userId = await userIdOfUsername(db.kysely, values.username);
        // Whole numbers only reach the schema as numbers; anything else reaches it as text and is refused there.
        const days = values.days === undefined ? {} : { enrollmentDays: /^\d{1,3}$/.test(values.days) ? Number(values.days) : values.days };
        const result = await resetTotpEnrollment(db.kysely, userId, days, cliActor, systemClock);
        console.log(resetSummary(values.username!, result));
        return 0;
      }
      case 'send-password-reset': {
        const username = values.username ?? (positionals.length === 1 ? positionals[0] : undefined);
        if (!username) {
          console.error(usage);
          return 2;
        }
        const { sentTo } = await sendPasswordReset(db.kysely, await userIdOfUsername(db.kysely, username), cliActor, systemClock);
        // The link itself is never shown: it goes only to the user's address (ASVS 6.4.6).
        console.log(`Password reset link for ${username} queued to ${sentTo} (valid 30 minutes; the worker sends it).`);
        return 0;
      }
      case 'rotate-secrets': {
        const size = values['batch-size'];
        if (size !== undefined && !(/^\d{1,5}$/.test(size) && Number(size) >= 1 && Number(size) <= maxRotationBatchSize)) {
          console.error(`--batch-size must be a whole number from 1 to ${maxRotationBatchSize}`);
          return 2;
        }
        let ring: Keyring;
        try {
          ring = defaultKeyring();
        } catch (err) {
          console.error((err as Error).message); // the secret list is missing or malformed: its message says which
          return 1;
        }
        // Ctrl-C or SIGTERM: the batch under way commits, then the run stops and says so.
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
        const report = await rotateSealedSecrets(db.kysely, {
          ring,
          signal: stop.signal,
          ...(size !== undefined ? { batchSize: Number(size) } : {}),
        });
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        await auditSecretRotation(db.kysely, report, cliActor, systemClock);
        const [counts, ...unreadable] = rotationSummary(report);
        console.log(counts);
        for (const line of unreadable) console.error(line);
        return report.unreadable.length > 0 ? 1 : report.interrupted ? 130 : 0;
      }
      default:
        console.error(usage);
        return 2;
    }
  } catch (err) {
    if (isValidationError(err)) {
      for (const [field, messages] of Object.entries(err.fieldErrors)) console.error(`${field}: ${messages.join(' ')}`);
      return 1;
    }
    if (isNotFoundError(err)) {
      console.error(err.message);
      return 1;
    }
    if (isConflictError(err)) {
      console.error(err.message);
      return 1;
    }
    throw err;
  } finally {
    await db.close();
  }
}

/** `backup FILE`: the SQLite database copied and checked (db/backup.ts); PostgreSQL is pg_dump's. */
async function backup(config: CheckedConfig, file: string | undefined): Promise<number> {
  if (!file) {
    console.error(usage);
    return 2;
  }
  if (config.database.dialect !== 'sqlite') {
    console.error('backup copies a SQLite database; DATABASE_URL points at PostgreSQL: use pg_dump (README, "Backups"), e.g. pg_dump --format=custom --file=portcullis.dump "$DATABASE_URL"');
    return 1;
  }
  try {
    const report = await backupSqliteDatabase(config.database.file, file);
    console.log(
      `Backed up ${report.source} to ${report.file}: ${report.bytes} bytes (${report.pages} pages), mode 0600; ` +
        `integrity ok, ${report.migrations} migrations (current), ${report.users} user${report.users === 1 ? '' : 's'}.`,
    );
    console.log(
      config.secrets === undefined
        ? `Keep ${path.join(config.dataDir, 'secret')} with it: without that secret the TOTP secrets and the Duo secret in the copy cannot be opened.`
        : 'Keep PORTCULLIS_SECRET with it: without that secret the TOTP secrets and the Duo secret in the copy cannot be opened.',
    );
    return 0;
  } catch (err) {
    console.error(`backup failed: ${(err as Error).message}`);
    return 1;
  }
}

main().then((code) => process.exit(code));
