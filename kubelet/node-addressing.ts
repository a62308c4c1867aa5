// Where each simulated node lives on the network: a loopback InternalIP the kubelet's HTTPS endpoint really binds,
// and a pod CIDR its pods take their (never dialed) IPs from (in a dual-stack cluster an IPv6 /64 beside it).

import { bigIntToIPv6, ipv6ToBigInt } from '../api/registry/service-ranges.ts';

/** Nodes per /16 of pod space: each node gets one /24, as kube-controller-manager's default --node-cidr-mask-size. */
const NODES_PER_POD_NETWORK = 256;
/** Host octets usable in a loopback /24 for node addresses (.1–.254). */
const HOSTS_PER_LOOPBACK_SUBNET = 254;

/**
 * Second octets of the /16s pods are numbered from, in allocation order. The cluster CIDR is 10.0.0.0/8 with one /24
 * per node (--cluster-cidr=10.0.0.0/8 --node-cidr-mask-size=24); like kube-controller-manager's range allocator, it
 * never hands out the service range, here kubeadm's default --service-cidr=10.96.0.0/12 (10.96–10.111). Allocation
 * starts at 10.244.0.0/16, the --pod-network-cidr of the kubeadm and flannel docs, so small clusters look like theirs;
 * then it wraps to 10.0 and continues below the service range and above it.
 */
const POD_NETWORK_SECOND_OCTETS: readonly number[] = [
  ...range(244, 255), ...range(0, 95), ...range(112, 243),
];

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** How many nodes get distinct pod CIDRs (and loopback addresses): 240 /16s of 256 /24s. */
export const MAX_SIMULATED_NODES = POD_NETWORK_SECOND_OCTETS.length * NODES_PER_POD_NETWORK;

/** Two-digit (or longer) suffix: node01, node02 … node100. */
export function nodeName(prefix: string, index: number): string {
  return `${prefix}${String(index).padStart(2, '0')}`;
}

/**
 * Loopback address of node `index` (1-based): 127.0.1.1, 127.0.1.2 … 127.0.1.254, 127.0.2.1 …
 * The third octet starts at 1 so no node ever takes 127.0.0.1, where the API server usually listens.
 */
export function nodeLoopbackIp(index: number): string {
  if (!Number.isInteger(index) || index < 1) throw new Error(`node index must be a positive integer, got ${index}`);
  const subnet = 1 + Math.floor((index - 1) / HOSTS_PER_LOOPBACK_SUBNET);
  const host = 1 + ((index - 1) % HOSTS_PER_LOOPBACK_SUBNET);
  if (subnet > 255) throw new Error(`node index ${index} is beyond the loopback address space`);
  return `127.0.${subnet}.${host}`;
}

/**
 * Pod CIDR of node `index` (1-based): 10.244.0.0/24 for node 1 … 10.244.255.0/24 for node 256, as a kubeadm cluster
 * with --pod-network-cidr=10.244.0.0/16 hands them out; then 10.245.0.0/24 … 10.255.255.0/24 (node 3,072), 10.0.0.0/24
 * (node 3,073) … 10.95.255.0/24, 10.112.0.0/24 … 10.243.255.0/24 (node 61,440): see POD_NETWORK_SECOND_OCTETS.
 */
export function nodePodCidr(index: number): string {
  if (!Number.isInteger(index) || index < 1) throw new Error(`node index must be a positive integer, got ${index}`);
  const slot = index - 1;
  const second = POD_NETWORK_SECOND_OCTETS[Math.floor(slot / NODES_PER_POD_NETWORK)];
  if (second === undefined) throw new Error(`node index ${index} is beyond the simulated pod network (${MAX_SIMULATED_NODES} nodes)`);
  return `10.${second}.${slot % NODES_PER_POD_NETWORK}.0/24`;
}

/**
 * IPv6 pod CIDR of node `index` (1-based) in a dual-stack cluster: one /64 per node out of fd00:10:244::/48
 * (fd00:10:244::/64 for node 1, fd00:10:244:1::/64 for node 2 …), kind's IPv6 pod subnet widened so that every
 * simulated node (up to 61,440) gets its own, as kube-controller-manager's range allocator gives each node a
 * --node-cidr-mask-size-ipv6=64 from --cluster-cidr.
 */
export function nodePodCidrV6(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > 65536) throw new Error(`node index ${index} is beyond the simulated IPv6 pod network`);
  const group = (index - 1).toString(16);
  return index === 1 ? 'fd00:10:244::/64' : `fd00:10:244:${group}::/64`;
}

/**
 * Hands out pod IPs from one node's /24: .2–.254 (.1 is the bridge's gateway, as on a CNI bridge network).
 * The same pod UID always gets its address back until released, so a re-sync never renumbers a pod.
 */
export class PodIpAllocator {
  private readonly base: string;
  /** The IPv6 /64's prefix (`fd00:10:244:1:`) in a dual-stack cluster. */
  private readonly baseV6: string | undefined;
  private readonly byPod = new Map<string, string>();
  private readonly taken = new Set<number>();
  private next = 2;

  constructor(podCidr: string, podCidrV6?: string) {
    const match = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(podCidr);
    if (!match) throw new Error(`pod CIDR must be a /24 ending in .0, got ${podCidr}`);
    this.base = match[1];
    if (podCidrV6 !== undefined) {
      const v6 = /^([0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,3})::\/64$/i.exec(podCidrV6);
      if (!v6) throw new Error(`IPv6 pod CIDR must be a /64 written as prefix::/64, got ${podCidrV6}`);
      const groups = v6[1].split(':');
      this.baseV6 = `${[...groups, ...Array(4 - groups.length).fill('0')].join(':')}:`;
    }
  }

  /**
   * A pod's addresses, the IPv4 one first (the node's podCIDRs order), then in a dual-stack cluster the IPv6 one
   * with the same host number in the node's /64 (so both come and go together).
   */
  addressesOf(ipv4: string): string[] {
    if (!this.baseV6 || !ipv4.startsWith(`${this.base}.`)) return [ipv4];
    const host = Number(ipv4.slice(this.base.length + 1));
    return [ipv4, bigIntToIPv6(ipv6ToBigInt(`${this.baseV6}:${host.toString(16)}`))];
  }

  /** Records an address the pod already had (e.g. found in its status after a kubelet restart). */
  adopt(podUid: string, ip: string): boolean {
    if (!ip.startsWith(`${this.base}.`)) return false;
    const host = Number(ip.slice(this.base.length + 1));
    if (!Number.isInteger(host) || host < 2 || host > 254) return false;
    const owner = [...this.byPod.entries()].find(([, address]) => address === ip);
    if (owner && owner[0] !== podUid) return false;
    this.byPod.set(podUid, ip);
    this.taken.add(host);
    return true;
  }

  allocate(podUid: string): string {
    const existing = this.byPod.get(podUid);
    if (existing) return existing;
    for (let tried = 0; tried < 253; tried++) {
      const host = this.next;
      this.next = this.next >= 254 ? 2 : this.next + 1;
      if (!this.taken.has(host)) {
        this.taken.add(host);
        const ip = `${this.base}.${host}`;
        this.byPod.set(podUid, ip);
        return ip;
      }
    }
    throw new Error(`no free pod IP left in ${this.base}.0/24`);
  }

  release(podUid: string): void {
    const ip = this.byPod.get(podUid);
    if (!ip) return;
    this.byPod.delete(podUid);
    this.taken.delete(Number(ip.slice(this.base.length + 1)));
  }
}
