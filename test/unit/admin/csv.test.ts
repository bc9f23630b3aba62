import { describe, expect, it } from 'vitest';
import { csvCell, csvLine } from '../../../lib/admin/csv';

// The one CSV writer of the console's exports (users, audit log).
describe('CSV cells and lines', () => {
  it('quotes every value, doubling the quotes inside, and keeps commas and newlines in the cell', () => {
    expect(csvCell('plain')).toBe('"plain"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('Ada, "the admin"')).toBe('"Ada, ""the admin"""');
    expect(csvCell('a,b\nc')).toBe('"a,b\nc"');
  });

  it('keeps a cell a spreadsheet would run as a formula as text (CSV injection)', () => {
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) expect(csvCell(`${lead}1+1`)).toBe(`"'${lead}1+1"`);
  });

  it('writes nothing for null and undefined, and numbers and booleans as text', () => {
    expect(csvCell(null)).toBe('""');
    expect(csvCell(undefined)).toBe('""');
    expect(csvCell(7)).toBe('"7"');
    expect(csvCell(false)).toBe('"false"');
  });

  it('ends each record with CRLF, as RFC 4180 asks', () => {
    expect(csvLine(['a', 1, null])).toBe('"a","1",""\r\n');
  });
});
