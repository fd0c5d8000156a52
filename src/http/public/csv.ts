/**
 * Neutralises spreadsheet formulas (DESIGN §8): a cell starting with = + - @,
 * tab or carriage return is prefixed with a single quote so it is read as text.
 */
export function csvCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
