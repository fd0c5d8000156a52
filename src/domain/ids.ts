import { randomFillSync } from 'node:crypto';

// Ids are made on every audited view: draw random bytes in bulk, not 16 at a time.
const pool = Buffer.alloc(4096);
let offset = pool.length;
function random16(): Buffer {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + 16);
  offset += 16;
  return out;
}

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
  const bytes = random16();
  let rand = '';
  for (let i = 0; i < 16; i++) rand += alphabet[bytes[i] & 31];
  return `${prefix}_${time}${rand}`;
}
