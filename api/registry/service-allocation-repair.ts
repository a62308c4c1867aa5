// Keeps the service allocators (one cluster IP bitmap per configured family, the node ports) true to the stored services, as kube-apiserver's ipallocator and
// portallocator repair controllers do: at start the bits are rebuilt from the services; a deleted
// service's addresses and ports are released as its deletion is seen in the store; and every few
// minutes addresses marked but used by no service (a create that failed after allocating) are freed
// once they have been seen leaked on three passes in a row, while addresses in use but unmarked are marked.

import type { Storage, WatchHandle } from '../../storage/interface.ts';
import { clusterIPsOf, nodePortsOf, type ServiceAllocators } from '../admission-plugins/service-allocation.ts';
import type { PersistedBitmapAllocator } from './range-allocator.ts';
import { familyOfIP } from './service-ranges.ts';

export const SERVICES_PREFIX = '/registry/services/specs/';
const LEAK_PASSES_BEFORE_RELEASE = 3;

export class ServiceAllocationRepair {
  private watch: WatchHandle | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly leakedIPs = new Map<string, number>();
  private readonly leakedPorts = new Map<number, number>();

  constructor(private readonly storage: Storage, private readonly allocators: ServiceAllocators, private readonly onError: (error: unknown) => void) {}

  /** Rebuilds the bits from the stored services (before the server serves), then follows deletions. */
  async start(repairIntervalMs = 180_000): Promise<void> {
    for (const allocator of this.allocators.clusterIPs.values()) await allocator.ensure();
    await this.allocators.nodePorts.ensure();
    const listed = await this.storage.list(SERVICES_PREFIX);
    const ips = listed.items.flatMap(clusterIPsOf);
    for (const [family, allocator] of this.allocators.clusterIPs) await allocator.reset(ips.filter((ip) => familyOfIP(ip) === family));
    await this.allocators.nodePorts.reset(listed.items.flatMap(nodePortsOf));
    this.follow(listed.revision);
    this.timer = setInterval(() => void this.repair().catch(this.onError), repairIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    if (this.timer) clearInterval(this.timer);
  }

  /** One repair pass. */
  async repair(): Promise<void> {
    const listed = await this.storage.list(SERVICES_PREFIX);
    const ips = new Set(listed.items.flatMap(clusterIPsOf));
    const ports = new Set(listed.items.flatMap(nodePortsOf));
    for (const ip of ips) await this.ipAllocator(ip)?.mark(ip);
    for (const port of ports) await this.allocators.nodePorts.mark(port);
    const allocated: string[] = [];
    for (const allocator of this.allocators.clusterIPs.values()) allocated.push(...await allocator.values());
    await this.releaseLeaks(allocated, ips, this.leakedIPs, (v) => this.releaseIPs(v));
    await this.releaseLeaks(await this.allocators.nodePorts.values(), ports, this.leakedPorts, (v) => this.allocators.nodePorts.release(v));
  }

  /** The allocator of an address's family (none when the cluster no longer serves that family). */
  private ipAllocator(ip: string): PersistedBitmapAllocator<string> | undefined {
    const family = familyOfIP(ip);
    return family ? this.allocators.clusterIPs.get(family) : undefined;
  }

  private async releaseIPs(ips: string[]): Promise<void> {
    for (const ip of ips) await this.ipAllocator(ip)?.release([ip]);
  }

  private async releaseLeaks<V>(allocated: V[], used: Set<V>, leaked: Map<V, number>, release: (values: V[]) => Promise<void>): Promise<void> {
    const now = new Set(allocated.filter((v) => !used.has(v)));
    for (const value of [...leaked.keys()]) if (!now.has(value)) leaked.delete(value);
    const free: V[] = [];
    for (const value of now) {
      const count = (leaked.get(value) ?? 0) + 1;
      if (count >= LEAK_PASSES_BEFORE_RELEASE) { free.push(value); leaked.delete(value); } else leaked.set(value, count);
    }
    if (free.length > 0) await release(free);
  }

  private follow(fromRevision: number): void {
    this.watch = this.storage.watch(SERVICES_PREFIX, { fromRevision }, {
      onEvent: (event) => {
        if (event.type !== 'DELETED') return;
        void Promise.all([
          this.releaseIPs(clusterIPsOf(event.object)),
          this.allocators.nodePorts.release(nodePortsOf(event.object)),
        ]).catch(this.onError);
      },
      onError: () => {
        if (this.stopped) return;
        // Deletions missed while the watch was down are found by a repair pass.
        void this.storage.list(SERVICES_PREFIX).then((listed) => this.follow(listed.revision)).then(() => this.repair()).catch(this.onError);
      },
    });
  }
}
