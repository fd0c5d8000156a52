import { isIPv4, isIPv6 } from 'node:net';

/** A parsed address: four octets, or eight 16-bit groups. IPv4-mapped IPv6 is IPv4. */
export type Ip = { v: 4; octets: number[] } | { v: 6; groups: number[] };

/**
 * Parses what a socket or a proxy's X-Forwarded-For says the client is.
 * A zone (`fe80::1%eth0`) is dropped; anything that is not an address is null.
 */
export function parseIp(text: string): Ip | null {
  const address = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  if (isIPv4(address)) return { v: 4, octets: address.split('.').map(Number) };
  if (!isIPv6(address)) return null;
  const [head, tail] = address.split('::');
  const groupsOf = (part: string | undefined): number[] =>
    !part
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a, b, c, d] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const front = groupsOf(head);
  const back = tail === undefined ? [] : groupsOf(tail);
  const groups = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  return mapped ? { v: 4, octets: [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255] } : { v: 6, groups };
}

/** The network an address is in: its first `bits` bits, the rest zero (a multiple of 8 for IPv4, of 16 for IPv6). */
export function ipPrefix(ip: Ip, bits: number): Ip {
  return ip.v === 4
    ? { v: 4, octets: ip.octets.map((o, i) => (i < bits / 8 ? o : 0)) }
    : { v: 6, groups: ip.groups.map((g, i) => (i < bits / 16 ? g : 0)) };
}

/** The canonical text (RFC 5952 for IPv6: lower case, no leading zeros, the longest run of zero groups as `::`). */
export function formatIp(ip: Ip): string {
  if (ip.v === 4) return ip.octets.join('.');
  let start = -1;
  let length = 0;
  for (let i = 0; i < 8; ) {
    if (ip.groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && ip.groups[j] === 0) j++;
    if (j - i > length) [start, length] = [i, j - i];
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (length < 2) return hex(ip.groups);
  return `${hex(ip.groups.slice(0, start))}::${hex(ip.groups.slice(start + length))}`;
}

/**
 * Who a rate limit counts: an IPv4 address, or the /64 network of an IPv6
 * one. A single host or subscriber gets a whole /64 and can take a new
 * address in it for every request, so counting IPv6 addresses one by one
 * would let it guess link passwords without limit. Text that is not an
 * address (no socket address, a test's made-up client) counts as itself.
 * `ip` is `text` parsed, for a caller that has already parsed it.
 */
export function limitedClient(text: string | undefined, ip: Ip | null = text ? parseIp(text) : null): string {
  if (!text) return 'unknown';
  if (!ip) return text;
  return ip.v === 4 ? formatIp(ip) : `${formatIp(ipPrefix(ip, 64))}/64`;
}
