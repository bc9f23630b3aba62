import type { DialectName } from '../url';

/** The few column types that differ between the two dialects. */
export function columnTypes(dialect: DialectName) {
  return dialect === 'postgres'
    ? ({ time: 'bigint', serial: 'bigserial' } as const)
    : ({ time: 'integer', serial: 'integer' } as const);
}
