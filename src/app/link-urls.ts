import type { Config } from '../config/config.js';
import type { Link } from '../domain/link.js';
import type { SecretBox } from '../domain/tokens.js';
import type { Executor } from '../storage/database.js';
import { newestSealedLink } from '../storage/links.js';

/** The page a link's token opens: what its holders are sent (the API's `url`, the recipient's mail). */
export const sharedUrl = (config: Pick<Config, 'publicUrl'>, token: string): string => `${config.publicUrl}/shared/${token}`;

/** The shorter page its code opens (the API's `short_url`). */
export const shortUrl = (config: Pick<Config, 'publicUrl'>, code: string): string => `${config.publicUrl}/s/${code}`;

/** Why a link's URL cannot be given: what the API says when it is asked for it (a QR code). */
export const UNREADABLE_URL = 'This link was made under another PORTHOLE_SECRET than this instance has, so its URL cannot be read back. It still opens for whoever holds it; rotate it to get a new URL, or restore the original secret.';

export type LinkAddresses = { token: string; code: string; url: string; shortUrl: string };

/**
 * A link's token and short code, read back from their sealed copies, with
 * the URLs they open; null when this instance's secret is not the one the
 * link was made under (PORTHOLE_SECRET changed, or a second instance lacks
 * it). The link still opens for its holders (it is found by its token's
 * hash), but its URL cannot be shown or sent again: rotating it makes a new one.
 */
export function linkAddresses(ctx: { box: SecretBox; config: Pick<Config, 'publicUrl'> }, link: Pick<Link, 'tokenSealed' | 'shortCodeSealed'>): LinkAddresses | null {
  let token: string;
  let code: string;
  try {
    token = ctx.box.open(link.tokenSealed);
    code = ctx.box.open(link.shortCodeSealed);
  } catch {
    return null;
  }
  return { token, code, url: sharedUrl(ctx.config, token), shortUrl: shortUrl(ctx.config, code) };
}

/**
 * Whether this instance's secret reads the links already stored (checked on
 * the newest): false means PORTHOLE_SECRET changed since they were made, so
 * their URLs cannot be shown again and the grants handed out before are void.
 */
export async function secretReadsLinks(ctx: { box: SecretBox; config: Pick<Config, 'publicUrl'>; database: { db: Executor } }): Promise<boolean> {
  const newest = await newestSealedLink(ctx.database.db);
  return newest === null || linkAddresses(ctx, newest) !== null;
}
