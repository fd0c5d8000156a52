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

/** The random part of the last id made, and its millisecond: ids made in the same millisecond count up from it. */
let lastTime = -1;
const lastRandom = new Uint8Array(16);

/** Adds one to the random part (base 32, last digit first); false when it was all 31s. */
function increment(digits: Uint8Array): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i] < 31) {
      digits[i] += 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

/**
 * Time-ordered ids (`lnk_01hx…`): 10 characters of milliseconds in Crockford
 * base32 followed by 16 random ones, so ids sort by creation time. Within one
 * millisecond, each next id of this process counts up from the last one's
 * random part (as monotonic ULIDs do), so ids made in order sort in that
 * order: two comments posted in the same millisecond list as posted.
 */
export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  if (now !== lastTime || !increment(lastRandom)) {
    const bytes = random16();
    // The first digit is drawn below 16: room to count up within the millisecond without running out.
    for (let i = 0; i < 16; i++) lastRandom[i] = bytes[i] & (i === 0 ? 15 : 31);
    lastTime = now;
  }
  let rand = '';
  for (let i = 0; i < 16; i++) rand += alphabet[lastRandom[i]];
  return `${prefix}_${time}${rand}`;
}
