// The ranges services draw from: --service-cluster-ip-range (one CIDR, or two of different families for
// dual-stack, each at most 2^20 addresses as kube-apiserver's validateClusterIPFlags; an IPv6 bitmap covers at
// most the first 65536 addresses, as upstream's ipallocator caps it) and --service-node-port-range (default
// 30000-32767), with upstream's error wording (the flag errors, ipallocator.ErrNotInRange, portallocator.ErrNotInRange).

import { isIP } from 'node:net';
import type { RangeSpec } from './range-allocator.ts';

export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';
export const DEFAULT_SERVICE_NODE_PORT_RANGE = '30000-32767';
/** validateClusterIPFlags' maxCIDRBits. */
const MAX_CIDR_BITS = 20;
/** ipallocator.New: "Limit the max size, since the allocator keeps a bitmap of that size." */
const MAX_IPV6_RANGE = 65536n;

export type IPFamily = 'IPv4' | 'IPv6';

export function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function numberToIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** An IPv6 address (any valid text form, with an embedded IPv4 tail too) as a 128-bit number. */
export function ipv6ToBigInt(ip: string): bigint {
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToNumber(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group || '0', 16)), 0n);
}

/** Go's net.IP.String() for IPv6: lower-case hex, the longest run of two or more zero groups as `::`. */
export function bigIntToIPv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(':');
  if (bestLength < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

export function familyOfIP(ip: string): IPFamily | undefined {
  const version = isIP(ip);
  return version === 4 ? 'IPv4' : version === 6 ? 'IPv6' : undefined;
}

export interface ClusterIPRange extends RangeSpec<string> {
  family: IPFamily;
  /** The first usable address (network + 1): the `kubernetes` service's on the primary range. */
  firstAddress: string;
}

/** One parsed CIDR of the flag (ParseCIDRSloppy: the network address, whatever host bits were given). */
interface ParsedCIDR {
  family: IPFamily;
  prefix: number;
  bits: number;
  network: bigint;
}

function parseCIDR(cidr: string): ParsedCIDR | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const address = cidr.slice(0, slash);
  const bitsText = cidr.slice(slash + 1);
  const family = familyOfIP(address);
  if (!family || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = family === 'IPv4' ? 32 : 128;
  const prefix = Number(bitsText);
  if (prefix > bits) return undefined;
  const value = family === 'IPv4' ? BigInt(ipv4ToNumber(address)) : ipv6ToBigInt(address);
  const hostBits = BigInt(bits - prefix);
  return { family, prefix, bits, network: (value >> hostBits) << hostBits };
}

function formatIP(family: IPFamily, value: bigint): string {
  return family === 'IPv4' ? numberToIPv4(Number(value)) : bigIntToIPv6(value);
}

/** calculateRangeOffset: dynamic allocation prefers the upper band; min(max(16, size/16), 256) is left for static IPs. */
function rangeOffset(cidrSize: bigint): number {
  if (cidrSize <= 16n) return 0;
  const offset = cidrSize / 16n;
  return offset < 16n ? 16 : offset > 256n ? 256 : Number(offset);
}

function rangeOf(cidr: ParsedCIDR): ClusterIPRange {
  const { family, prefix, bits, network } = cidr;
  const cidrSize = 1n << BigInt(bits - prefix);
  // ipallocator.New: IPv6 ranges are capped; IPv4 ranges leave out the broadcast address; both the network address.
  let max = family === 'IPv6' ? (cidrSize > MAX_IPV6_RANGE ? MAX_IPV6_RANGE : cidrSize) : cidrSize - 1n;
  max -= 1n;
  const size = max < 0n ? 0 : Number(max);
  const base = network + 1n;
  const description = `${formatIP(family, network)}/${prefix}`;
  const band = rangeOffset(cidrSize);
  return {
    family, description, size, firstAddress: formatIP(family, base),
    dynamicStart: size > band ? band : 0,
    offsetOf: (ip) => {
      if (familyOfIP(ip) !== family) return undefined;
      const value = family === 'IPv4' ? BigInt(ipv4ToNumber(ip)) : ipv6ToBigInt(ip);
      const offset = value - base;
      return offset >= 0n && offset < BigInt(size) ? Number(offset) : undefined;
    },
    valueAt: (offset) => formatIP(family, base + BigInt(offset)),
    alreadyAllocated: 'provided IP is already allocated',
    notInRange: (ip) => `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${description}`,
  };
}

/** validateMaxCIDRRange: the range is kept in one stored bitmap. */
function checkSize(cidr: ParsedCIDR, flag: string): string | undefined {
  return cidr.bits - cidr.prefix > MAX_CIDR_BITS
    ? `specified ${flag} is too large; for ${cidr.bits}-bit addresses, the mask must be >= ${cidr.bits - MAX_CIDR_BITS}` : undefined;
}

/**
 * The flag's ranges, primary first, as kube-apiserver's getServiceIPAndRanges and validateClusterIPFlags read
 * it; throws with upstream's messages (joined by "; " when several apply).
 */
export function clusterIPRanges(flag: string): ClusterIPRange[] {
  const entries = flag === '' ? [DEFAULT_SERVICE_CLUSTER_IP_RANGE] : flag.split(',');
  const primary = parseCIDR(entries[0]);
  if (!primary) throw new Error('service-cluster-ip-range[0] is not a valid cidr');
  const secondary = entries.length > 1 ? parseCIDR(entries[1]) : undefined;
  if (entries.length > 1 && !secondary) throw new Error('service-cluster-ip-range[1] is not an ip net');
  const errors: string[] = [];
  if (entries.length > 2) errors.push('--service-cluster-ip-range must not contain more than two entries');
  const primaryTooLarge = checkSize(primary, '--service-cluster-ip-range');
  if (primaryTooLarge) errors.push(primaryTooLarge);
  if (secondary) {
    if (secondary.family === primary.family) errors.push('--service-cluster-ip-range[0] and --service-cluster-ip-range[1] must be of different IP family');
    const secondaryTooLarge = checkSize(secondary, '--service-cluster-ip-range[1]');
    if (secondaryTooLarge) errors.push(secondaryTooLarge);
  }
  if (errors.length > 0) throw new Error(errors.join('; '));
  return secondary ? [rangeOf(primary), rangeOf(secondary)] : [rangeOf(primary)];
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
