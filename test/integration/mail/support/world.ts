import { randomUUID } from 'node:crypto';
import type { Db } from '../../../../db';
import type { Clock } from '../../../../lib/clock';
import type { Actor } from '../../../../lib/admin/actor';
import { createUser } from '../../../../lib/admin/users';
import type { MailTransport } from '../../../../lib/mail/transport';
import type { WorkerOptions } from '../../../../lib/mail/worker';

export const origin = 'https://mfa.example.com';
export const admin: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };
export const seedActor: Actor = { id: null, label: 'seed', clientIp: null };

export interface Persona {
  username: string;
  state?: 'active' | 'staged' | 'suspended';
  email?: string | null;
  displayName?: string;
}

/** Creates the users through the admin service; returns their ids by username. */
export async function seed(db: Db, clock: Clock, people: Persona[]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const p of people) {
    const email = p.email === undefined ? `${p.username}@example.com` : p.email;
    ids[p.username] = (
      await createUser(
        db.kysely,
        {
          username: p.username,
          state: p.state ?? 'active',
          ...(email ? { email } : {}),
          ...(p.displayName ? { displayName: p.displayName } : {}),
        },
        seedActor,
        clock,
      )
    ).id;
  }
  return ids;
}

/** A verified factor, as the factor modules store it. */
export async function addFactor(db: Db, userId: string, type: 'totp' | 'webauthn', at: number): Promise<void> {
  await db.kysely
    .insertInto('factors')
    .values({
      id: randomUUID(),
      user_id: userId,
      type,
      name: type === 'totp' ? 'Authenticator app' : 'Security key',
      created_at: at,
      last_used_at: null,
      secret_enc: type === 'totp' ? 'sealed-secret' : null,
      last_used_step: null,
      credential_id: type === 'webauthn' ? randomUUID() : null,
      public_key: type === 'webauthn' ? 'pk' : null,
      sign_count: type === 'webauthn' ? 0 : null,
      transports: null,
    })
    .execute();
}

export async function outbox(db: Db) {
  return db.kysely.selectFrom('mail_outbox').selectAll().orderBy('created_at').orderBy('idempotency_key').execute();
}

export function workerOptions(db: Db, transport: MailTransport, clock: Clock, extra: Partial<WorkerOptions> = {}): WorkerOptions {
  return {
    db,
    transport,
    clock,
    config: { origin, from: 'Portcullis <no-reply@mfa.example.com>', reminderOffsetsMs: [3 * 86_400_000, 86_400_000] },
    log: () => undefined,
    ...extra,
  };
}
