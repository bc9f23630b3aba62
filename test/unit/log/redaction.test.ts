import { describe, expect, it } from 'vitest';
import { createLogger, loggerFor, newRequestId, requestIdHeader } from '@/lib/log';

/** A logger writing JSON lines into an array. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = createLogger({
    json: true,
    level: 'debug',
    destination: {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, raw };
}

describe('the logger', () => {
  it('redacts credential fields at the top level and one level down', () => {
    const { logger, lines, raw } = capture();
    logger.info(
      {
        password: 'hunter2-hunter2',
        code: '123456',
        secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
        token: 'session-token-value',
        user: { id: 'u1', password: 'nested-password', recoveryCodes: ['abcd-efgh'], apiKey: 'pk_live_key' },
        factorId: 'f1',
      },
      'signed in',
    );
    expect(lines[0]).toMatchObject({
      msg: 'signed in',
      password: '[redacted]',
      code: '[redacted]',
      secret: '[redacted]',
      token: '[redacted]',
      user: { id: 'u1', password: '[redacted]', recoveryCodes: '[redacted]', apiKey: '[redacted]' },
      factorId: 'f1',
    });
    for (const value of ['hunter2-hunter2', '123456', 'JBSWY3DP', 'session-token-value', 'nested-password', 'abcd-efgh', 'pk_live_key']) {
      expect(raw.join('')).not.toContain(value);
    }
  });

  it('redacts cookies, authorization and the entry token in headers, wherever the headers sit', () => {
    const { logger, raw, lines } = capture();
    const headers = {
      cookie: 'portcullis_session=abcdef0123456789',
      authorization: 'Bearer api-key-0123456789',
      'set-cookie': ['portcullis_session=fedcba9876543210; HttpOnly'],
      'x-portcullis-entry': 'entry-token-0123456789',
      'user-agent': 'curl/8',
    };
    logger.warn({ headers }, 'request headers');
    logger.warn({ req: { method: 'POST', headers } }, 'request');
    logger.warn({ res: { headers } }, 'response');
    for (const secret of ['abcdef0123456789', 'api-key-0123456789', 'fedcba9876543210', 'entry-token-0123456789']) {
      expect(raw.join('')).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({ headers: { cookie: '[redacted]', 'user-agent': 'curl/8' } });
    expect(lines[1]).toMatchObject({ req: { method: 'POST', headers: { authorization: '[redacted]', 'user-agent': 'curl/8' } } });
  });

  it('logs errors as type, message, code (errorCode) and stack only: no driver detail with row values', () => {
    const { logger, lines } = capture();
    const err = Object.assign(new Error('duplicate key value violates unique constraint "sessions_pkey"'), {
      code: '23505',
      detail: 'Key (id)=(secret-session-id) already exists.',
      parameters: ['secret-session-id'],
    });
    logger.error({ err }, 'could not store the session');
    const logged = lines[0]!.err as Record<string, unknown>;
    expect(logged).toMatchObject({ type: 'Error', message: err.message, errorCode: '23505' });
    expect(Object.keys(logged).sort()).toEqual(['errorCode', 'message', 'stack', 'type']);
    expect(JSON.stringify(lines[0])).not.toContain('secret-session-id');
  });

  it('loggerFor() adds the entry’s request id, and only with the entry’s token', () => {
    const { logger, lines } = capture();
    const entryToken = 'a'.repeat(64);
    const reqId = newRequestId();
    const before = process.env.PORTCULLIS_ENTRY_TOKEN;
    process.env.PORTCULLIS_ENTRY_TOKEN = entryToken;
    try {
      loggerFor(new Headers({ 'x-portcullis-entry': entryToken, [requestIdHeader]: reqId }), logger).info('from the entry');
      loggerFor(new Headers({ [requestIdHeader]: reqId }), logger).info('no token');
      loggerFor(new Headers({ 'x-portcullis-entry': 'b'.repeat(64), [requestIdHeader]: reqId }), logger).info('wrong token');
      loggerFor(new Headers({ 'x-portcullis-entry': entryToken, [requestIdHeader]: 'x"} injected' }), logger).info('not an id');
      logger.info('start-up');
    } finally {
      if (before === undefined) delete process.env.PORTCULLIS_ENTRY_TOKEN;
      else process.env.PORTCULLIS_ENTRY_TOKEN = before;
    }
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['from the entry', reqId],
      ['no token', undefined],
      ['wrong token', undefined],
      ['not an id', undefined],
      ['start-up', undefined],
    ]);
  });

  it('honours the level', () => {
    const lines: string[] = [];
    const logger = createLogger({ json: true, level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['loud']);
  });
});
