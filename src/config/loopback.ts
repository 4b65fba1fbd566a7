import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * An IP address in 127.0.0.0/8 or ::1 (in any spelling, IPv4-mapped 127.x too). False for anything else,
 * names included: a name is loopback only if every address it resolves to is (see resolveMetricsHost).
 */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
