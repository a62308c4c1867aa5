// What kube-apiserver's Service REST storage does around a write (pkg/registry/core/service/storage/
// alloc.go): allocate cluster IPs from --service-cluster-ip-range and node ports from
// --service-node-port-range (requested ones checked, missing ones picked), fill ipFamilies and
// ipFamilyPolicy, and release node ports a type change no longer needs. It runs as the last validating
// step of the chain, as upstream's BeginCreate/BeginUpdate run after validation and admission. Released
// addresses of deleted services and leaks of failed writes are the repair loop's (service-allocation-repair.ts).

import type { AdmissionAttributes, ValidatingAdmission } from '../admission.ts';
import { StatusError, invalid, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { AlreadyAllocatedError, NotInRangeError, RangeFullError, type PersistedBitmapAllocator } from '../registry/range-allocator.ts';

type Json = Record<string, unknown>;

export interface ServiceAllocators {
  clusterIPs: PersistedBitmapAllocator<string>;
  nodePorts: PersistedBitmapAllocator<number>;
}

/** Types whose ports get node ports (LoadBalancer unless allocateLoadBalancerNodePorts is false). */
export function needsNodePorts(spec: Json): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

export function needsClusterIP(spec: Json): boolean {
  return spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
}

function goStrings(values: string[]): string {
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

function portsOf(spec: Json): Json[] {
  return Array.isArray(spec.ports) ? spec.ports.filter(isPlainObject) : [];
}

/** Node ports a stored service holds (for release and repair). */
export function nodePortsOf(service: KubeObject): number[] {
  const spec = isPlainObject(service.spec) ? service.spec : {};
  const ports = portsOf(spec).map((p) => p.nodePort).filter((p): p is number => typeof p === 'number' && p > 0);
  if (typeof spec.healthCheckNodePort === 'number' && spec.healthCheckNodePort > 0) ports.push(spec.healthCheckNodePort);
  return ports;
}

export function clusterIPsOf(service: KubeObject): string[] {
  const spec = isPlainObject(service.spec) ? service.spec : {};
  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs.map(String) : typeof spec.clusterIP === 'string' ? [spec.clusterIP] : [];
  return ips.filter((ip) => ip && ip !== 'None');
}

export class ServiceAllocationAdmission implements ValidatingAdmission {
  constructor(private readonly allocators: ServiceAllocators) {}

  async validate(attributes: AdmissionAttributes): Promise<void> {
    if (attributes.group !== '' || attributes.resource !== 'services' || attributes.subresource !== '') return;
    if (attributes.operation === 'DELETE' || !attributes.object || !isPlainObject(attributes.object.spec)) return;
    const service = attributes.object;
    const spec = service.spec as Json;
    const old = attributes.operation === 'UPDATE' ? attributes.oldObject : undefined;
    const oldSpec = old && isPlainObject(old.spec) ? old.spec : undefined;
    const dryRun = attributes.dryRun === true;
    const name = service.metadata.name ?? attributes.name;
    const allocated: { ips: string[]; ports: number[] } = { ips: [], ports: [] };
    try {
      this.defaultFamilies(spec);
      if (needsClusterIP(spec) && !(oldSpec && needsClusterIP(oldSpec) && oldSpec.clusterIP === spec.clusterIP && spec.clusterIP)) {
        const requested = typeof spec.clusterIP === 'string' && spec.clusterIP ? spec.clusterIP : undefined;
        if (requested) {
          try {
            await this.allocators.clusterIPs.allocate(requested, dryRun);
          } catch (err) {
            if (err instanceof AlreadyAllocatedError || err instanceof NotInRangeError) {
              const errors: FieldError[] = [{ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: ${goStrings([requested])}: failed to allocate IP ${requested}: ${err.message}` }];
              throw invalid('Service', '', name, errors);
            }
            throw err;
          }
          allocated.ips.push(requested);
        } else {
          let ip: string;
          try {
            ip = await this.allocators.clusterIPs.allocateNext(dryRun);
          } catch (err) {
            if (err instanceof RangeFullError) throw internalError(`failed to allocate a serviceIP: ${err.message}`);
            throw err;
          }
          allocated.ips.push(ip);
          spec.clusterIP = ip;
        }
        spec.clusterIPs = [spec.clusterIP];
      }
      if (spec.type === 'ExternalName') {
        delete spec.clusterIP;
        delete spec.clusterIPs;
      }
      await this.allocateNodePorts(spec, oldSpec, name, dryRun, allocated.ports);
    } catch (err) {
      if (!dryRun) {
        await this.allocators.clusterIPs.release(allocated.ips).catch(() => undefined);
        await this.allocators.nodePorts.release(allocated.ports).catch(() => undefined);
      }
      throw err;
    }
    // Node ports the new type no longer uses go back (upstream releases them once the update is stored; the
    // repair loop covers an update that then fails).
    if (oldSpec && !dryRun) {
      if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) await this.allocators.clusterIPs.release(clusterIPsOf({ ...old!, spec: oldSpec }));
      const kept = new Set(nodePortsOf(service));
      const freed = nodePortsOf({ ...old!, spec: oldSpec }).filter((p) => !kept.has(p));
      await this.allocators.nodePorts.release(freed);
    }
  }

  private defaultFamilies(spec: Json): void {
    if (spec.type === 'ExternalName') {
      delete spec.ipFamilies;
      delete spec.ipFamilyPolicy;
      return;
    }
    const headlessWithoutSelector = spec.clusterIP === 'None' && (!isPlainObject(spec.selector) || Object.keys(spec.selector).length === 0);
    spec.ipFamilyPolicy ||= headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack';
    if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = ['IPv4'];
  }

  private async allocateNodePorts(spec: Json, oldSpec: Json | undefined, name: string, dryRun: boolean, allocated: number[]): Promise<void> {
    const ports = portsOf(spec);
    if (!needsNodePorts(spec)) {
      // ClusterIP services carry no node ports (an update to ClusterIP drops them, as upstream's strategy does).
      if (spec.type === 'ClusterIP' && oldSpec && oldSpec.type !== 'ClusterIP') for (const port of ports) delete port.nodePort;
      return;
    }
    const held = new Set(oldSpec && needsNodePorts(oldSpec) ? nodePortsOf({ metadata: {}, spec: oldSpec }) : []);
    const seen = new Set<number>();
    // Requested ports first, so a dynamic pick cannot take one a later port asks for.
    for (const [i, port] of ports.entries()) {
      const requested = typeof port.nodePort === 'number' && port.nodePort > 0 ? port.nodePort : undefined;
      if (requested !== undefined) {
        // The same node port may serve one port number over TCP and UDP (a port pair).
        if (held.has(requested) || seen.has(requested)) { seen.add(requested); continue; }
        try {
          await this.allocators.nodePorts.allocate(requested, dryRun);
        } catch (err) {
          if (err instanceof AlreadyAllocatedError || err instanceof NotInRangeError) {
            throw invalid('Service', '', name, [{ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${requested}: ${err.message}` }]);
          }
          throw err;
        }
        allocated.push(requested);
        seen.add(requested);
      }
    }
    for (const port of ports) {
      if (typeof port.nodePort === 'number' && port.nodePort > 0) continue;
      try {
        const next = await this.allocators.nodePorts.allocateNext(dryRun);
        allocated.push(next);
        port.nodePort = next;
      } catch (err) {
        if (err instanceof RangeFullError) throw internalError(`failed to allocate a nodePort: ${err.message}`);
        throw err;
      }
    }
  }
}
