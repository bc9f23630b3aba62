import { describe, expect, it } from 'vitest';
import { groupListItem, remoteHeaderValue, remoteHeadersFor } from '../../../lib/gate/remote-headers';

const bytesOf = (value: string) => Buffer.from(value, 'latin1');

describe('Remote-* header values', () => {
  it('are the UTF-8 bytes of the text, one byte per code unit (a valid header value)', () => {
    const value = remoteHeaderValue('Zoë 山田');
    expect(bytesOf(value).toString('utf8')).toBe('Zoë 山田');
    expect([...value].every((c) => c.charCodeAt(0) <= 0xff)).toBe(true);
    expect(() => new Headers({ 'remote-name': value })).not.toThrow();
  });

  it('lose control characters, so a value can never start a second header line', () => {
    expect(remoteHeaderValue('ada\r\nRemote-User: root')).toBe('adaRemote-User: root');
    expect(remoteHeaderValue('a\u0000b\u007fc\u0085d\u2028e\tf')).toBe('abcdef');
    expect(remoteHeaderValue(null)).toBe('');
  });

  it('are bounded, cut at a character boundary', () => {
    const value = remoteHeaderValue('ë'.repeat(5000));
    expect(bytesOf(value).length).toBeLessThanOrEqual(4096);
    expect(bytesOf(value).toString('utf8')).toBe('ë'.repeat(2048));
  });

  it('Remote-Groups splits on "," into whole names: a comma or % inside a name is escaped', () => {
    expect(groupListItem('Ops, night shift')).toBe('Ops%2C night shift');
    expect(groupListItem('100%')).toBe('100%25');
    const headers = remoteHeadersFor({ username: 'ada', email: null, displayName: null, amr: [{ method: 'pwd', at: 1 }, { method: 'totp', at: 2 }, { method: 'totp', at: 3 }] }, ['b,admins', 'a']);
    expect(headers['Remote-Groups']!.split(',').map(decodeURIComponent)).toEqual(['a', 'b,admins']);
    expect(headers['Remote-Methods']).toBe('pwd,totp');
  });
});
