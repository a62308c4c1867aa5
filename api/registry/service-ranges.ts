// The ranges services draw from: --service-cluster-ip-range (IPv4 CIDR, default 10.96.0.0/12, at most
// 2^20 addresses as upstream) and --service-node-port-range (default 30000-32767), with upstream's
// error wording (ipallocator.ErrNotInRange, portallocator.ErrNotInRange).

import { isIP } from 'node:net';
import type { RangeSpec } from './range-allocator.ts';

export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';
export const DEFAULT_SERVICE_NODE_PORT_RANGE = '30000-32767';

export function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function numberToIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface ClusterIPRange extends RangeSpec<string> {
  /** The first usable address (network + 1): the `kubernetes` service's. */
  firstAddress: string;
}

/** Parses the CIDR; throws a flag-style message when it is not a usable IPv4 range. */
export function clusterIPRange(cidr: string): ClusterIPRange {
  const [address, bitsText] = cidr.split('/');
  const prefix = Number(bitsText);
  if (isIP(address ?? '') !== 4 || !/^\d+$/.test(bitsText ?? '') || prefix < 0 || prefix > 32) {
    throw new Error(`--service-cluster-ip-range: ${cidr} is not an IPv4 CIDR (IPv6 and dual-stack ranges are not supported)`);
  }
  if (prefix < 12) throw new Error('--service-cluster-ip-range: specified --service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= 12');
  const hostBits = 32 - prefix;
  const network = ipv4ToNumber(address) - (ipv4ToNumber(address) % 2 ** hostBits);
  const total = 2 ** hostBits;
  // Upstream leaves out the network and broadcast addresses of ranges with room for them.
  const size = total > 2 ? total - 2 : total;
  const base = total > 2 ? network + 1 : network;
  const description = `${numberToIPv4(network)}/${prefix}`;
  // KEP-3070: dynamic allocation prefers the upper band; the lower one is left for static IPs.
  const band = Math.min(Math.max(16, Math.floor(total / 16)), 256);
  return {
    description, size, firstAddress: numberToIPv4(base),
    dynamicStart: size > band ? band : 0,
    offsetOf: (ip) => {
      if (isIP(ip) !== 4) return undefined;
      const offset = ipv4ToNumber(ip) - base;
      return offset >= 0 && offset < size ? offset : undefined;
    },
    valueAt: (offset) => numberToIPv4(base + offset),
    alreadyAllocated: 'provided IP is already allocated',
    notInRange: (ip) => `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${description}`,
  };
}

export function nodePortRange(range: string): RangeSpec<number> {
  const match = /^(\d+)-(\d+)$/.exec(range) ?? /^(\d+)\+(\d+)$/.exec(range);
  if (!match) throw new Error(`--service-node-port-range: ${range} is not a port range such as 30000-32767`);
  const low = Number(match[1]);
  const high = range.includes('+') ? low + Number(match[2]) : Number(match[2]);
  if (low < 1 || high > 65535 || high < low) throw new Error(`--service-node-port-range: ${range} is not within 1-65535`);
  const size = high - low + 1;
  const description = `${low}-${high}`;
  const band = Math.min(Math.max(16, Math.floor(size / 32)), 128);
  return {
    description, size,
    dynamicStart: size > band ? band : 0,
    offsetOf: (port) => (Number.isInteger(port) && port >= low && port <= high ? port - low : undefined),
    valueAt: (offset) => low + offset,
    alreadyAllocated: 'provided port is already allocated',
    notInRange: () => `provided port is not in the valid range. The range of valid ports is ${description}`,
  };
}
