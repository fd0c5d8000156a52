/**
 * Keeps secrets out of logs: link tokens and short codes in public paths,
 * grants and API keys in headers and query strings.
 */
// Tolerant of case and doubled slashes: a re-cased or doubled-slash spelling of a real
// link (a proxy, a hand-edited URL) ends in a 404, but its log line still holds the secret.
const PUBLIC_PATH = /^(\/+(?:v1\/+)?(?:shared|s))\/+[^/?#]+/i;
// Anything shaped like a link token (43 base64url characters), wherever it appears.
const TOKEN_SHAPED = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;
const SECRET_QUERY = /([?&](?:grant|token|code|password|key)=)[^&#]*/gi;

export function maskUrl(url: string): string {
  return url.replace(PUBLIC_PATH, '$1/[redacted]').replace(SECRET_QUERY, '$1[redacted]').replace(TOKEN_SHAPED, '[redacted]');
}

const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'x-porthole-grant', 'x-csrf-token', 'x-porthole-password']);

export function maskHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = SECRET_HEADERS.has(k.toLowerCase()) ? '[redacted]' : v;
  return out;
}
