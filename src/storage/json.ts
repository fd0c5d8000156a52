/** Parses a JSON text column, falling back when a row holds something unexpected. */
export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Opaque cursors: base64url JSON of the sort key of the last row served. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor, or returns null when it is not one of ours (the caller answers `invalid_cursor`). */
export function decodeCursor(cursor: string, shape: Array<'number' | 'string'>): unknown[] | null {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const key = parseJson<unknown>(Buffer.from(cursor, 'base64url').toString('utf8'), null);
  if (!Array.isArray(key) || key.length !== shape.length) return null;
  return key.every((v, i) => typeof v === shape[i] && (typeof v !== 'number' || Number.isFinite(v))) ? key : null;
}
