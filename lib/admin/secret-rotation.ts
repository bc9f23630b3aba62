import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { replaceDuoSecret, replaceTotpSecret, sealedDuoSecret, sealedTotpSecretsAfter } from '../../db/queries/sealed-secrets';
import { defaultKeyring, keyIdOf, openSecret, sealSecret, type Keyring } from '../crypto/secret-box';
import { duoSecretContext } from '../factors/duo';
import { totpSecretContext } from '../factors/totp';
import type { Clock } from '../clock';
import type { Actor } from './actor';

/**
 * `npm run cli -- rotate-secrets`: after a new secret was put first in PORTCULLIS_SECRET,
 * re-seals every stored sealed value (TOTP secrets, the Duo client secret) under the newest
 * key, so the old secret can then be dropped from the list.
 *
 * - Batches: keyset pages by primary key, each its own short transaction, so a large table
 *   never holds a long lock and the server keeps serving meanwhile.
 * - Resumable: a value already under the newest key is left alone, so a run that stopped
 *   (interrupted, crashed) is finished by running again; nothing is done twice.
 * - Safe beside the server: each value is replaced only if it is still what was read (a
 *   conditional update); one changed meanwhile (a factor removed) is counted, not touched.
 * - Never destructive: a value no listed secret opens (sealed under a secret no longer
 *   listed, damaged) is reported and left exactly as it is.
 */

export const defaultRotationBatchSize = 200;
export const maxRotationBatchSize = 10_000;

/** One sealed value as read, with what it takes to open it and to name it in a report. */
interface SealedValue {
  key: string;
  sealed: string;
  context: string;
  /** For the operator: which value this is (never the value). */
  what: string;
}

/** A column of sealed values: read a page after a key, replace one if unchanged. */
interface SealedSource {
  batch(db: Kysely<Database>, after: string | null, limit: number): Promise<SealedValue[]>;
  replace(db: Kysely<Database>, key: string, from: string, to: string): Promise<boolean>;
}

const sources: readonly SealedSource[] = [
  {
    async batch(db, after, limit) {
      if (after !== null) return [];
      const row = await sealedDuoSecret(db);
      return row ? [{ key: String(row.id), sealed: row.sealed, context: duoSecretContext, what: 'the Duo client secret (MFA settings)' }] : [];
    },
    replace: (db, key, from, to) => replaceDuoSecret(db, Number(key), from, to),
  },
  {
    async batch(db, after, limit) {
      const rows = await sealedTotpSecretsAfter(db, after, limit);
      return rows.map((r) => ({
        key: r.id,
        sealed: r.secret_enc,
        context: totpSecretContext(r.user_id),
        what: `the authenticator app ${r.id} of ${r.username ?? `user ${r.user_id}`}`,
      }));
    },
    replace: replaceTotpSecret,
  },
];

export interface UnreadableSealedValue {
  what: string;
  why: string;
}

export interface RotationReport {
  /** Sealed values seen. */
  total: number;
  /** Re-sealed under the newest key by this run. */
  resealed: number;
  /** Already under the newest key (new since the rotation, or re-sealed by an earlier run). */
  current: number;
  /** Opened by no listed secret: left as they are. */
  unreadable: UnreadableSealedValue[];
  /** Changed or removed between read and write: left to whoever changed them. */
  changed: number;
  /** Stopped before the end (the signal): run again to finish. */
  interrupted: boolean;
  /** The newest key's id (not secret: derived from the key, lib/crypto/secret-box.ts). */
  keyId: string;
}

export interface RotationOptions {
  /** @default defaultKeyring(): this process's PORTCULLIS_SECRET */
  ring?: Keyring;
  /** @default defaultRotationBatchSize */
  batchSize?: number;
  /** Checked before each batch: the batch under way finishes, then the run stops. */
  signal?: AbortSignal;
  /** After each committed batch, with the counts so far. */
  onBatch?: (soFar: Readonly<RotationReport>) => void;
}

function whyUnreadable(sealed: string, ring: Keyring): string {
  const id = keyIdOf(sealed);
  if (id === null) return 'not a sealed value';
  if (!ring.byId.has(id)) return `sealed under key ${id}, which no secret in PORTCULLIS_SECRET has`;
  return `it does not open under key ${id} (damaged, or copied from another row)`;
}

/**
 * Re-seals every stored sealed value that is not under the ring's newest key.
 * @example const report = await rotateSealedSecrets(db.kysely, { batchSize: 500 })
 */
export async function rotateSealedSecrets(db: Kysely<Database>, options: RotationOptions = {}): Promise<RotationReport> {
  const ring = options.ring ?? defaultKeyring();
  const limit = options.batchSize ?? defaultRotationBatchSize;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxRotationBatchSize) {
    throw new RangeError(`batch size must be a whole number from 1 to ${maxRotationBatchSize}`);
  }
  const report: RotationReport = { total: 0, resealed: 0, current: 0, unreadable: [], changed: 0, interrupted: false, keyId: ring.current.id };
  for (const source of sources) {
    let after: string | null = null;
    for (;;) {
      if (options.signal?.aborted) {
        report.interrupted = true;
        return report;
      }
      const page: SealedValue[] = await db.transaction().execute(async (trx) => {
        const values = await source.batch(trx, after, limit);
        for (const value of values) {
          report.total++;
          if (keyIdOf(value.sealed) === ring.current.id) {
            report.current++;
            continue;
          }
          let plain: string;
          try {
            plain = openSecret(value.sealed, value.context, ring);
          } catch {
            report.unreadable.push({ what: value.what, why: whyUnreadable(value.sealed, ring) });
            continue;
          }
          if (await source.replace(trx, value.key, value.sealed, sealSecret(plain, value.context, ring))) report.resealed++;
          else report.changed++;
        }
        return values;
      });
      if (page.length > 0) options.onBatch?.(report);
      if (page.length < limit) break;
      after = page[page.length - 1]!.key;
      // NOTE: SQLite's driver is synchronous, so without this a run never gives the event
      // loop a turn: a Ctrl-C would not be seen until the end (and tsx, not hearing back from
      // its child, kills it outright).
      await nextTurn();
    }
  }
  return report;
}

/** One audit entry per run, with its counts (never a value or a key). */
export async function auditSecretRotation(db: Kysely<Database>, report: RotationReport, actor: Actor, clock: Clock): Promise<void> {
  await writeAudit(db, {
    at: clock.now(),
    actorId: actor.id,
    actorLabel: actor.label,
    action: 'secrets.resealed',
    targetType: null,
    targetId: null,
    details: {
      total: report.total,
      resealed: report.resealed,
      alreadyCurrent: report.current,
      unreadable: report.unreadable.length,
      changedMeanwhile: report.changed,
      interrupted: report.interrupted,
      keyId: report.keyId,
    },
    clientIp: actor.clientIp,
  });
}

/** What the CLI prints: the counts line first, then one line per value it could not open. */
export function rotationSummary(report: RotationReport): string[] {
  const lines = [
    `${report.interrupted ? 'Interrupted: ' : ''}re-sealed ${report.resealed} of ${report.total} sealed secrets; ${report.current} already current` +
      (report.changed > 0 ? `; ${report.changed} changed meanwhile (left as they are)` : '') +
      (report.interrupted ? '. Run rotate-secrets again to finish.' : ''),
  ];
  if (report.unreadable.length > 0) {
    lines.push(`${report.unreadable.length} could not be opened with any secret in PORTCULLIS_SECRET and were left as they are:`);
    for (const u of report.unreadable) lines.push(`  ${u.what}: ${u.why}`);
  }
  return lines;
}
