// What kube-apiserver's Service REST storage does around a write (pkg/registry/core/service/storage/
// alloc.go): fill ipFamilyPolicy and ipFamilies (service-ip-families.ts), allocate cluster IPs per family from
// --service-cluster-ip-range (one allocator per configured family; requested ones checked, missing ones picked;
// a secondary address on an upgrade to dual-stack, the secondary released on a downgrade), node ports and the
// health check node port from --service-node-port-range, and release what a type or policy change no longer
// needs once the write is accepted. It runs as the last validating step of the chain, after the strategy's
// validation (upstream allocates first, then validates: the checks that need the allocated families,
// validateUpgradeDowngrade*, run here after allocation). Released addresses of deleted services and leaks of
// failed writes are the repair loop's (service-allocation-repair.ts).

import type { AdmissionAttributes, ValidatingAdmission } from '../admission.ts';
import { StatusError, invalid, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { AlreadyAllocatedError, NotInRangeError, RangeFullError, type PersistedBitmapAllocator } from '../registry/range-allocator.ts';
import { familyOfIP, type IPFamily } from '../registry/service-ranges.ts';
import { goStrings, needsHealthCheck, validateUpgradeDowngrade } from '../resources/service-validation.ts';
import { initIPFamilyFields, isMatchingPreferDualStack, stringList } from './service-ip-families.ts';

type Json = Record<string, unknown>;

export interface ServiceAllocators {
  /** Cluster IP allocators by family, in --service-cluster-ip-range order (the primary first). */
  clusterIPs: Map<IPFamily, PersistedBitmapAllocator<string>>;
  nodePorts: PersistedBitmapAllocator<number>;
}

/** Types whose ports get node ports (LoadBalancer unless allocateLoadBalancerNodePorts is false). */
export function needsNodePorts(spec: Json): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

export function needsClusterIP(spec: Json): boolean {
  return spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
}

function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

function portsOf(spec: Json): Json[] {
  return Array.isArray(spec.ports) ? spec.ports.filter(isPlainObject) : [];
}

/** Node ports a stored service holds, its health check node port included (for release and repair). */
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

/** What one write took (given back if it fails) and what it gives up (released once it is accepted). */
interface Ledger {
  ips: string[];
  ports: number[];
  releaseIPs: string[];
}

export class ServiceAllocationAdmission implements ValidatingAdmission {
  private readonly families: IPFamily[];

  constructor(private readonly allocators: ServiceAllocators) {
    this.families = [...allocators.clusterIPs.keys()];
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    if (attributes.group !== '' || attributes.resource !== 'services' || attributes.subresource !== '') return;
    if (attributes.operation === 'DELETE' || !attributes.object || !isPlainObject(attributes.object.spec)) return;
    const service = attributes.object;
    const spec = service.spec as Json;
    const old = attributes.operation === 'UPDATE' ? attributes.oldObject : undefined;
    const oldSpec = old && isPlainObject(old.spec) ? old.spec : undefined;
    const dryRun = attributes.dryRun === true;
    const name = service.metadata.name ?? attributes.name;
    const ledger: Ledger = { ips: [], ports: [], releaseIPs: [] };
    try {
      initIPFamilyFields(name, spec, oldSpec, this.families);
      if (!oldSpec) await this.allocClusterIPs(name, spec, dryRun, ledger);
      else await this.updateClusterIPs(name, spec, oldSpec, dryRun, ledger);
      if (spec.type === 'ExternalName') {
        delete spec.clusterIP;
        delete spec.clusterIPs;
      }
      await this.allocateNodePorts(spec, oldSpec, name, dryRun, ledger.ports);
      await this.allocateHealthCheckNodePort(spec, oldSpec, dryRun, ledger.ports);
      if (oldSpec) {
        const errs = validateUpgradeDowngrade(spec, oldSpec);
        if (errs.length > 0) throw invalid('Service', '', name, errs);
      }
    } catch (err) {
      if (!dryRun) {
        await this.releaseIPs(ledger.ips).catch(() => undefined);
        await this.allocators.nodePorts.release(ledger.ports).catch(() => undefined);
      }
      throw err;
    }
    // What the new spec no longer uses goes back (upstream releases it once the update is stored; the repair loop
    // covers an update that then fails).
    if (oldSpec && !dryRun) {
      await this.releaseIPs(ledger.releaseIPs);
      const kept = new Set(nodePortsOf(service));
      const freed = nodePortsOf({ ...old!, spec: oldSpec }).filter((p) => !kept.has(p));
      await this.allocators.nodePorts.release(freed);
    }
  }

  private async releaseIPs(ips: string[]): Promise<void> {
    for (const ip of ips) {
      const family = familyOfIP(ip);
      // An address of a family the cluster no longer serves has nothing to go back to.
      const allocator = family ? this.allocators.clusterIPs.get(family) : undefined;
      if (allocator) await allocator.release([ip]);
    }
  }

  /** allocIPs: one address of each family asked for, the requested one or the next free one. */
  private async allocIPs(name: string, spec: Json, wanted: Map<string, string>, dryRun: boolean, ledger: Ledger): Promise<Map<string, string>> {
    const allocated = new Map<string, string>();
    for (const [family, requested] of wanted) {
      const allocator = this.allocators.clusterIPs.get(family as IPFamily);
      if (!allocator) throw internalError(`failed to allocate a serviceIP: ${family} is not configured on this cluster`);
      if (requested === '') {
        try {
          const ip = await allocator.allocateNext(dryRun);
          allocated.set(family, ip);
          if (!dryRun) ledger.ips.push(ip);
        } catch (err) {
          if (err instanceof RangeFullError) throw internalError(`failed to allocate a serviceIP: ${err.message}`);
          throw err;
        }
      } else {
        try {
          await allocator.allocate(requested, dryRun);
        } catch (err) {
          if (err instanceof AlreadyAllocatedError || err instanceof NotInRangeError) {
            const errors: FieldError[] = [{ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: ${goStrings(stringList(spec.clusterIPs))}: failed to allocate IP ${requested}: ${err.message}` }];
            throw invalid('Service', '', name, errors);
          }
          throw err;
        }
        allocated.set(family, requested);
        if (!dryRun) ledger.ips.push(requested);
      }
    }
    return allocated;
  }

  /** allocClusterIPs: every family of `ipFamilies` gets its address (none for ExternalName and headless). */
  private async allocClusterIPs(name: string, spec: Json, dryRun: boolean, ledger: Ledger): Promise<void> {
    if (spec.type === 'ExternalName') return;
    const clusterIPs = stringList(spec.clusterIPs);
    if (clusterIPs[0] === 'None') return;
    const families = stringList(spec.ipFamilies);
    const wanted = new Map<string, string>();
    families.forEach((family, i) => {
      if (i >= clusterIPs.length) clusterIPs.push('');
      wanted.set(family, clusterIPs[i]);
    });
    const allocated = await this.allocIPs(name, { ...spec, clusterIPs }, wanted, dryRun, ledger);
    families.forEach((family, i) => { clusterIPs[i] = allocated.get(family) ?? clusterIPs[i]; });
    spec.clusterIPs = clusterIPs;
    if (clusterIPs.length > 0) spec.clusterIP = clusterIPs[0];
  }

  /** updateClusterIPs: to or from ExternalName, or an upgrade to / downgrade from dual-stack. */
  private async updateClusterIPs(name: string, spec: Json, oldSpec: Json, dryRun: boolean, ledger: Ledger): Promise<void> {
    if (isMatchingPreferDualStack(spec, oldSpec)) return;
    if (oldSpec.type === 'ExternalName' && spec.type !== 'ExternalName') return this.allocClusterIPs(name, spec, dryRun, ledger);
    const oldIPs = stringList(oldSpec.clusterIPs);
    if (oldIPs[0] === 'None') return;
    if (oldSpec.type !== 'ExternalName' && spec.type === 'ExternalName') {
      ledger.releaseIPs.push(...oldIPs);
      return;
    }
    const oldFamilies = stringList(oldSpec.ipFamilies);
    const families = stringList(spec.ipFamilies);
    if (oldFamilies.length === 1 && families.length === 2) {
      const clusterIPs = stringList(spec.clusterIPs);
      if (clusterIPs.length < 2) clusterIPs.push('');
      const allocated = await this.allocIPs(name, { ...spec, clusterIPs }, new Map([[families[1], clusterIPs[1]]]), dryRun, ledger);
      clusterIPs[1] = allocated.get(families[1]) ?? clusterIPs[1];
      spec.clusterIPs = clusterIPs;
    } else if (oldFamilies.length === 2 && families.length === 1 && oldIPs[1]) {
      ledger.releaseIPs.push(oldIPs[1]);
    }
  }

  private async allocateNodePorts(spec: Json, oldSpec: Json | undefined, name: string, dryRun: boolean, allocated: number[]): Promise<void> {
    const ports = portsOf(spec);
    if (!needsNodePorts(spec)) {
      // ClusterIP services carry no node ports (an update to ClusterIP drops them, as upstream's strategy does).
      if (spec.type === 'ClusterIP' && oldSpec && oldSpec.type !== 'ClusterIP') for (const port of ports) delete port.nodePort;
      return;
    }
    const held = new Set(oldSpec && needsNodePorts(oldSpec) ? portsOf(oldSpec).map((p) => p.nodePort) : []);
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
        if (!dryRun) allocated.push(requested);
        seen.add(requested);
      }
    }
    for (const port of ports) {
      if (typeof port.nodePort === 'number' && port.nodePort > 0) continue;
      try {
        const next = await this.allocators.nodePorts.allocateNext(dryRun);
        if (!dryRun) allocated.push(next);
        port.nodePort = next;
      } catch (err) {
        if (err instanceof RangeFullError) throw internalError(`failed to allocate a nodePort: ${err.message}`);
        throw err;
      }
    }
  }

  /**
   * allocHealthCheckNodePort / updateHealthCheckNodePort: a service that comes to need a health check (LoadBalancer
   * with externalTrafficPolicy Local) gets the requested port or the next free one; errors are upstream's
   * internal errors. One that stops needing it gives it back (the release of ports the new spec does not hold).
   */
  private async allocateHealthCheckNodePort(spec: Json, oldSpec: Json | undefined, dryRun: boolean, allocated: number[]): Promise<void> {
    if (!needsHealthCheck(spec) || (oldSpec && needsHealthCheck(oldSpec))) return;
    const requested = typeof spec.healthCheckNodePort === 'number' && spec.healthCheckNodePort > 0 ? spec.healthCheckNodePort : 0;
    if (requested) {
      try {
        await this.allocators.nodePorts.allocate(requested, dryRun);
      } catch (err) {
        if (err instanceof AlreadyAllocatedError || err instanceof NotInRangeError) throw internalError(`failed to allocate requested HealthCheck NodePort ${requested}: ${err.message}`);
        throw err;
      }
      if (!dryRun) allocated.push(requested);
      return;
    }
    try {
      const next = await this.allocators.nodePorts.allocateNext(dryRun);
      if (!dryRun) allocated.push(next);
      spec.healthCheckNodePort = next;
    } catch (err) {
      if (err instanceof RangeFullError) throw internalError(`failed to allocate a HealthCheck NodePort 0: ${err.message}`);
      throw err;
    }
  }
}
