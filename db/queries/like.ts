/**
 * LIKE patterns from user input. `%` and `_` in the input match themselves: each is
 * escaped with `\`, which must then be declared in the statement (`… like ? escape '\'`).
 * The escape character itself is escaped first, so `\%` typed by a user stays literal too.
 */
export const likeEscapeChar = '\\';

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => likeEscapeChar + c);
}

/** A pattern matching values that contain `text` anywhere. */
export function containsPattern(text: string): string {
  return `%${escapeLike(text)}%`;
}
