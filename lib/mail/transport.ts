import { brandError } from '../errors/brand';
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import SMTPTransport from 'nodemailer/lib/smtp-transport';
import { log as logger } from '../log';

/** Delivery: SMTP through nodemailer, or the embedded default where the outbox table is the mailbox. */

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable across retries and workers: receivers can drop a second copy (SMTP itself has no idempotency). */
  messageId: string;
  /** The message's kind, as an X-Portcullis-Kind header. */
  kind: string;
  /** Links the templates marked loggable (nothing secret in them); the outbox log prints these. */
  loggableLinks?: readonly string[];
}

export interface MailTransport {
  /** Recorded on the row: how the message was delivered. */
  readonly via: 'smtp' | 'outbox';
  /** Resolves once the server accepted the message; rejects with the server's answer. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** An answer that retrying cannot change: the server refused the address itself. */
export class PermanentDeliveryError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    brandError(this, 'PermanentDeliveryError');
  }
}

/**
 * `<hash-of-key@host>`: derived from the idempotency key, so every attempt at one message,
 * by any worker, carries the same Message-ID.
 */
export function messageIdFor(idempotencyKey: string, origin: string): string {
  let host = 'portcullis.invalid';
  try {
    host = new URL(origin).hostname || host;
  } catch {
    /* keep the placeholder host */
  }
  const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
  return `<${digest}.portcullis@${host}>`;
}

// NOTE: well inside the worker's lease (lib/mail/worker.ts), so a slow server makes an
// attempt fail rather than outlive the lease and let a second worker send in parallel.
export const smtpTimeouts = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 } as const;

interface SmtpError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
}

/**
 * nodemailer over SMTP. `url` is nodemailer's connection URL (`smtp://user:pass@host:587`,
 * `smtps://…:465`; query options such as `?ignoreTLS=true` pass through). A 5xx refusal of
 * the recipient (or an address nodemailer cannot use) is permanent; everything else
 * (connection refused, timeouts, 4xx, 5xx to other commands) is retried.
 */
export function smtpTransport(url: string): MailTransport {
  // NOTE: createTransport({ url, … }) would drop everything but the URL; the transport
  // class merges them (options in the URL win).
  const transporter = nodemailer.createTransport(new SMTPTransport({ url, ...smtpTimeouts }));
  return {
    via: 'smtp',
    async send(mail) {
      try {
        await transporter.sendMail({
          from: mail.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Portcullis-Kind': mail.kind },
        });
      } catch (err) {
        const e = err as SmtpError;
        const recipientRefused =
          e.code === 'EENVELOPE' && (e.command === 'API' || (e.command === 'RCPT TO' && (e.responseCode ?? 0) >= 500));
        if (recipientRefused) throw new PermanentDeliveryError(e.message);
        throw err;
      }
    },
    close() {
      transporter.close();
    },
  };
}

/**
 * The embedded default: no mail server. The message stays in the outbox table, where the
 * admin console shows it, and the server log prints its recipient, subject and the links the
 * template marked loggable (README, SMTP_URL), in production too. Only marked links: the
 * body itself is never logged, so a link with a secret in it cannot reach the log by accident.
 */
export function outboxTransport(log: ((line: string) => void) | null): MailTransport {
  return {
    via: 'outbox',
    async send(mail) {
      if (!log) return;
      const links = mail.loggableLinks ?? [];
      log(`[portcullis] mail (outbox, no SMTP_URL) to ${mail.to}: ${mail.subject}${links.length > 0 ? ` — ${links.join(' ')}` : ''}`);
    },
    close() {},
  };
}

/** SMTP when `smtpUrl` is set, else the outbox, whose messages the server log announces. */
export function transportFor(smtpUrl: string | undefined, log: (line: string) => void = (line) => logger.info(line)): MailTransport {
  if (smtpUrl) return smtpTransport(smtpUrl);
  return outboxTransport(log);
}
