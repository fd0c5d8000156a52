import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Time-ordered ids (`lnk_01hx…`): 10 characters of milliseconds in Crockford
 * base32 followed by 16 random ones, so ids sort by creation time.
 */
export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += alphabet[bytes[i] & 31];
  return `${prefix}_${time}${rand}`;
}
