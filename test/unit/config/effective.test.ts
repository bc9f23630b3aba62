import { describe, expect, it } from 'vitest';
import { effectiveConfig, formatEffectiveConfig, maskUrl } from '../../../lib/config/effective';
import { checkConfig, configVariables } from '../../../lib/config/schema';

/* What `check-config` shows (lib/config/effective.ts). Persona: Olga, the operator. */
describe('connection URLs are shown without their credentials', () => {
  it.each([
    ['postgres://portcullis:pg-pass@db.internal:5432/portcullis', 'postgres://portcullis:***@db.internal:5432/portcullis'],
    ['postgres://portcullis@db.internal/portcullis?sslmode=require', 'postgres://portcullis@db.internal/portcullis?sslmode=require'],
    ['postgres://db.internal/portcullis?user=app&password=pg-pass&sslkey=/etc/k.pem', 'postgres://db.internal/portcullis?user=app&password=***&sslkey=***'],
    ['smtps://mailer:mail%40pass@smtp.example.com:465?ignoreTLS=true', 'smtps://mailer:***@smtp.example.com:465?ignoreTLS=true'],
    ['not a url at all: pass', '***'],
  ])('%s → %s', (url, shown) => {
    expect(maskUrl(url)).toBe(shown);
  });
});

describe("Olga's effective configuration", () => {
  const env = {
    DATABASE_URL: 'postgres://portcullis:pg-pass@db.internal/portcullis',
    PORTCULLIS_SECRET: 'olgas-newest-secret-0123456789abcdef,olgas-older-secret-0123456789abcdef0',
    PORTCULLIS_METRICS_TOKEN: 'olgas-metrics-token-0123456789abcdef',
    SMTP_URL: 'smtp://mailer:mail-pass@smtp.example.com:587',
    PORTCULLIS_REMINDER_OFFSETS: '',
    PORT: '8080',
  };
  const result = checkConfig(env);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  const settings = effectiveConfig(result.config, env);

  it('lists every variable once, in the README table’s order, and where its value came from', () => {
    expect(settings.map((s) => s.name)).toEqual([...configVariables]);
    const given = settings.filter((s) => s.source === 'environment').map((s) => s.name);
    expect(given).toEqual(['DATABASE_URL', 'PORTCULLIS_SECRET', 'PORT', 'SMTP_URL', 'PORTCULLIS_REMINDER_OFFSETS', 'PORTCULLIS_METRICS_TOKEN']);
  });

  it('shows defaults as the code applies them: the origin follows PORT, an empty reminder list is none', () => {
    const value = (name: string) => settings.find((s) => s.name === name)!.value;
    expect(value('PORTCULLIS_ORIGIN')).toBe('http://localhost:8080');
    expect(value('PORTCULLIS_REMINDER_OFFSETS')).toBe('none');
    expect(value('PORTCULLIS_SHUTDOWN_TIMEOUT')).toBe('25 s');
    expect(value('PORTCULLIS_INVITATION_DAYS')).toBe('7 days');
  });

  it('masks the secrets, the metrics token and the passwords in the URLs', () => {
    const text = formatEffectiveConfig(settings).join('\n');
    for (const secret of ['olgas-newest', 'olgas-older', 'olgas-metrics', 'pg-pass', 'mail-pass']) expect(text).not.toContain(secret);
    expect(text).toMatch(/^PORTCULLIS_SECRET +environment +\*\*\* \(2 secrets, newest first, masked\)$/m);
    expect(text).toMatch(/^PORTCULLIS_METRICS_TOKEN +environment +\*\*\* \(masked\)$/m);
    expect(text).toMatch(/^DATABASE_URL +environment +postgres:\/\/portcullis:\*\*\*@db\.internal\/portcullis \(PostgreSQL\)$/m);
    expect(text).toMatch(/^SMTP_URL +environment +smtp:\/\/mailer:\*\*\*@smtp\.example\.com:587$/m);
  });
});
