import { describe, expect, it } from 'vitest';
import { limitedClient } from './ip.js';

describe('limitedClient', () => {
  it('counts an IPv4 address as itself, an IPv4-mapped one as its IPv4', () => {
    expect(limitedClient('203.0.113.9')).toBe('203.0.113.9');
    expect(limitedClient('::ffff:203.0.113.9')).toBe('203.0.113.9');
  });

  it('counts an IPv6 address as its /64, however it is written', () => {
    const key = limitedClient('2001:db8:5:7::1');
    expect(key).toBe('2001:db8:5:7::/64');
    for (const same of ['2001:0db8:0005:0007:ffff:ffff:ffff:ffff', '2001:DB8:5:7:1:2:3:4', '2001:db8:5:7::1%eth0']) expect(limitedClient(same)).toBe(key);
    expect(limitedClient('2001:db8:5:8::1')).not.toBe(key);
  });

  it('counts what is not an address as itself, and no address as unknown', () => {
    expect(limitedClient('not an ip')).toBe('not an ip');
    expect(limitedClient(undefined)).toBe('unknown');
    expect(limitedClient('')).toBe('unknown');
  });
});
