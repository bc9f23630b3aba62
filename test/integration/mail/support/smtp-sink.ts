import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

/**
 * A real SMTP server in the test process (the smtp-server package) on 127.0.0.1: it
 * receives what the worker sends, and the test reads it. It can be taken "down" (refuses
 * connections) and brought back on the same port, or told to answer 451 for a while.
 *
 *   const sink = await startSmtpSink();
 *   const transport = smtpTransport(sink.url);
 *   const mail = await sink.waitFor((m) => m.to.includes('ada@example.com'));
 *   await sink.stop();
 */

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  headers: Record<string, string>;
  text: string;
  html: string;
  raw: string;
}

export interface SmtpSink {
  /** smtp://127.0.0.1:PORT?ignoreTLS=true, for SMTP_URL or smtpTransport(). */
  url: string;
  port: number;
  received: ReceivedMail[];
  /** Resolves with the first message (already received or arriving) that matches. */
  waitFor(match: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** While set, every DATA is answered "451 try again later" after the body was read. */
  failTransiently: boolean;
  /** Addresses answered "550 no such user" at RCPT TO. */
  refuse: Set<string>;
  /**
   * While set, the answer to DATA is held (the body was read): the client waits, as with a
   * mail server that hangs. A held message counts as received only once answered by
   * answerHeld(true) while its connection is still open, as a real server takes
   * responsibility for a message only with its 250.
   */
  holdData: boolean;
  /** How many DATA answers are held right now. */
  readonly held: number;
  /** Answers every held DATA: 250 (accept) or 451; connections that closed meanwhile get nothing. */
  answerHeld(accept: boolean): void;
  /** Stops listening: connections are refused until start(). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

function unfoldHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, enc: string, data: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : decodeQuotedPrintable(data.replace(/_/g, ' ')),
  );
}

function decodeQuotedPrintable(input: string): string {
  const soft = input.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i]!;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

function splitHead(raw: string): [string, string] {
  const m = /\r?\n\r?\n/.exec(raw);
  return m ? [raw.slice(0, m.index), raw.slice(m.index + m[0].length)] : [raw, ''];
}

/** Just enough MIME for what nodemailer writes: one part, or multipart/alternative (text + html). */
export function parseMail(raw: string, envelope: { from: string; to: string[] }): ReceivedMail {
  const [head, body] = splitHead(raw);
  const headers = unfoldHeaders(head);
  let text = '';
  let html = '';
  const visit = (partHeaders: Record<string, string>, partBody: string) => {
    const type = partHeaders['content-type'] ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (/^multipart\//i.test(type) && boundary) {
      for (const chunk of partBody.split(`--${boundary}`).slice(1)) {
        if (chunk.startsWith('--')) break;
        const [h, b] = splitHead(chunk.replace(/^\r?\n/, ''));
        visit(unfoldHeaders(h), b.replace(/\r?\n$/, ''));
      }
      return;
    }
    const decoded = decodeBody(partBody, partHeaders['content-transfer-encoding']);
    if (/^text\/html/i.test(type)) html = decoded;
    else if (/^text\/plain/i.test(type)) text = decoded;
  };
  visit(headers, body);
  return {
    from: envelope.from,
    to: envelope.to,
    subject: decodeWords(headers.subject ?? ''),
    messageId: headers['message-id'] ?? '',
    headers,
    text: text.replace(/\r\n/g, '\n'),
    html: html.replace(/\r\n/g, '\n'),
    raw,
  };
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const waiters = new Set<{ match: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }>();
  let port = 0;
  let server: SMTPServer | null = null;
  const closedSessions = new Set<string>();
  const heldAnswers: Array<{ sessionId: string; answer: (accept: boolean) => void }> = [];

  const sink: SmtpSink = {
    url: '',
    port: 0,
    received,
    failTransiently: false,
    refuse: new Set(),
    holdData: false,
    get held() {
      return heldAnswers.filter((h) => !closedSessions.has(h.sessionId)).length;
    },
    answerHeld(accept) {
      for (const h of heldAnswers.splice(0)) if (!closedSessions.has(h.sessionId)) h.answer(accept);
    },
    waitFor(match, timeoutMs = 15_000) {
      const found = received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (m: ReceivedMail) => (clearTimeout(timer), resolve(m)) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching message within ${timeoutMs} ms (received ${received.length})`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async down() {
      sink.answerHeld(false);
      const s = server;
      server = null;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async up() {
      if (server) return;
      server = create();
      const s = server;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      port = (s.server.address() as AddressInfo).port;
      sink.port = port;
      sink.url = `smtp://127.0.0.1:${port}?ignoreTLS=true`;
    },
    async stop() {
      await sink.down();
    },
  };

  function create(): SMTPServer {
    return new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onClose(session) {
        closedSessions.add(session.id);
      },
      onRcptTo(address, _session, callback) {
        if (sink.refuse.has(address.address)) {
          const err = new Error('No such user here') as Error & { responseCode: number };
          err.responseCode = 550;
          callback(err);
          return;
        }
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        const tryAgainLater = () => {
          const err = new Error('Try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          callback(err);
        };
        stream.on('end', () => {
          if (sink.failTransiently) return tryAgainLater();
          if (sink.holdData) {
            heldAnswers.push({ sessionId: session.id, answer: (accept) => (accept ? accept250() : tryAgainLater()) });
            return;
          }
          accept250();
        });
        const accept250 = () => {
          const mail = parseMail(Buffer.concat(chunks).toString('utf8'), {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          });
          received.push(mail);
          for (const w of [...waiters]) {
            if (w.match(mail)) {
              waiters.delete(w);
              w.resolve(mail);
            }
          }
          callback();
        };
      },
    });
  }

  await sink.up();
  return sink;
}
