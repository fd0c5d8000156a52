/**
 * Keeps secrets out of logs: link tokens and short codes in public paths,
 * grants and API keys in headers and query strings.
 */
const PUBLIC_PATH = /^(\/(?:v1\/)?(?:shared|s))\/[^/?#]+/;
const SECRET_QUERY = /([?&](?:grant|token|code|password|key)=)[^&#]*/gi;

export function maskUrl(url: string): string {
  return url.replace(PUBLIC_PATH, '$1/[redacted]').replace(SECRET_QUERY, '$1[redacted]');
}

const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'x-porthole-grant', 'x-csrf-token', 'x-porthole-password']);

export function maskHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = SECRET_HEADERS.has(k.toLowerCase()) ? '[redacted]' : v;
  return out;
}
