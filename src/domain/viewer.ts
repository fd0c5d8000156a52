import { hash } from 'node:crypto';
import type { SecretBox } from './tokens.js';

const DAY_MS = 86_400_000;

/** Characters kept of the base64url hash: 132 bits, plenty to tell a day's viewers apart. */
export const VIEWER_ID_LENGTH = 22;

/** The UTC day of an epoch-millisecond time, as `YYYY-MM-DD`. */
export const utcDay = (ms: number): string => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);

/** A daily pseudonym of a client, for counting unique viewers (DESIGN §6). */
export type ViewerIds = (workspaceId: string, ip: string | undefined, userAgent: string | undefined, now: number) => string;

/**
 * Unique viewers without raw identifiers: a viewer is a keyed hash of the
 * workspace, the client's full IP address and user agent under a key of the
 * server secret and the UTC day. The same client is one viewer all day across
 * the workspace's links; the next day, or in another workspace, it is
 * another, unlinkable to the first without the secret, and the address is
 * never stored or recoverable (even where the workspace keeps no IP at all).
 *
 * This runs on every counted view, so it is one keyed hash per request: the day's
 * key (itself an HMAC of the day under the secret's MAC key) is derived once
 * a day and kept until the day changes.
 */
export function viewerIds(box: Pick<SecretBox, 'sign'>): ViewerIds {
  let day = Number.NaN;
  let key = '';
  return (workspaceId, ip, userAgent, now) => {
    const today = Math.floor(now / DAY_MS);
    if (today !== day) {
      key = box.sign(`viewer\u0000${utcDay(now)}`);
      day = today;
    }
    // A one-shot SHA-256 of the secret day key and the client: a quarter of an HMAC object's cost on
    // this per-view path, and as unguessable without the key; cut to 22 characters, it cannot be extended either.
    return hash('sha256', `${key}\u0000${workspaceId}\u0000${ip ?? ''}\u0000${userAgent ?? ''}`, 'base64url').slice(0, VIEWER_ID_LENGTH);
  };
}
