/**
 * CSV for the console's exports (RFC 4180), safe to open in a spreadsheet: every cell is
 * quoted, and a cell that a spreadsheet would read as a formula (it starts with = + - @,
 * a tab or a carriage return) is prefixed with an apostrophe (OWASP "CSV injection").
 */

const formulaStart = /^[=+\-@\t\r]/;

/** One cell: null and undefined become empty; quotes doubled; formulas defused. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '""';
  const text = String(value);
  const safe = formulaStart.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** One record, CRLF-terminated as RFC 4180 asks. */
export function csvLine(cells: readonly (string | number | boolean | null | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
