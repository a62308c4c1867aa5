// The LimitRanger admission plugin (plugin/pkg/admission/limitranger) for pod creation: the namespace's
// LimitRanges of type Container fill missing requests and limits from their defaultRequest and default
// (noting it in the kubernetes.io/limit-ranger annotation), then every Container and Pod min, max and
// maxLimitRequestRatio is enforced with upstream's messages (403 `pods "x" is forbidden: ...`).

import type { AdmissionAttributes, MutatingAdmission, ValidatingAdmission } from '../admission.ts';
import { forbidden } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { computePodQOS } from '../resources/pod-qos.ts';
import { parseQuantity } from '../resources/quantity.ts';

type Json = Record<string, unknown>;
type Quantities = Record<string, string>;

/** The LimitRanges of a namespace. */
export type LimitRangeLister = (namespace: string) => Promise<KubeObject[]>;

const ANNOTATION = 'kubernetes.io/limit-ranger';

function quantities(value: unknown): Quantities {
  const out: Quantities = {};
  if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
  return out;
}

function limitsOf(range: KubeObject, type: string): Json[] {
  const spec = isPlainObject(range.spec) ? range.spec : {};
  return (Array.isArray(spec.limits) ? spec.limits.filter(isPlainObject) : []).filter((l) => l.type === type);
}

function containersOf(pod: KubeObject): Json[] {
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  return [...(Array.isArray(spec.initContainers) ? spec.initContainers : []), ...(Array.isArray(spec.containers) ? spec.containers : [])].filter(isPlainObject);
}

function resourcesOf(container: Json): { requests: Quantities; limits: Quantities } {
  const resources = isPlainObject(container.resources) ? container.resources : {};
  return { requests: quantities(resources.requests), limits: quantities(resources.limits) };
}

function minConstraint(limitType: string, name: string, enforced: string, request: Quantities, limit: Quantities): string | undefined {
  const want = parseQuantity(enforced) ?? 0;
  if (request[name] === undefined) return `minimum ${name} usage per ${limitType} is ${enforced}.  No request is specified`;
  if ((parseQuantity(request[name]) ?? 0) < want) return `minimum ${name} usage per ${limitType} is ${enforced}, but request is ${request[name]}`;
  if (limit[name] !== undefined && (parseQuantity(limit[name]) ?? 0) < want) return `minimum ${name} usage per ${limitType} is ${enforced}, but limit is ${limit[name]}`;
  return undefined;
}

function maxConstraint(limitType: string, name: string, enforced: string, request: Quantities, limit: Quantities): string | undefined {
  const most = parseQuantity(enforced) ?? 0;
  if (limit[name] === undefined) return `maximum ${name} usage per ${limitType} is ${enforced}.  No limit is specified`;
  if ((parseQuantity(limit[name]) ?? 0) > most) return `maximum ${name} usage per ${limitType} is ${enforced}, but limit is ${limit[name]}`;
  if (request[name] !== undefined && (parseQuantity(request[name]) ?? 0) > most) return `maximum ${name} usage per ${limitType} is ${enforced}, but request is ${request[name]}`;
  return undefined;
}

function ratioConstraint(limitType: string, name: string, enforced: string, request: Quantities, limit: Quantities): string | undefined {
  const req = parseQuantity(request[name]) ?? 0;
  const lim = parseQuantity(limit[name]) ?? 0;
  if (request[name] === undefined || req === 0) return `${name} max limit to request ratio per ${limitType} is ${enforced}, but no request is specified or request is 0`;
  if (limit[name] === undefined || lim === 0) return `${name} max limit to request ratio per ${limitType} is ${enforced}, but no limit is specified or limit is 0`;
  const ratio = lim / req;
  if (ratio > (parseQuantity(enforced) ?? 0) + 1e-9) return `${name} max limit to request ratio per ${limitType} is ${enforced}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

function check(limitType: string, item: Json, request: Quantities, limit: Quantities, errors: string[]): void {
  for (const [name, value] of Object.entries(quantities(item.min))) { const e = minConstraint(limitType, name, value, request, limit); if (e) errors.push(e); }
  for (const [name, value] of Object.entries(quantities(item.max))) { const e = maxConstraint(limitType, name, value, request, limit); if (e) errors.push(e); }
  for (const [name, value] of Object.entries(quantities(item.maxLimitRequestRatio))) { const e = ratioConstraint(limitType, name, value, request, limit); if (e) errors.push(e); }
}

function sum(values: Quantities[]): Quantities {
  const totals: Record<string, number> = {};
  for (const value of values) for (const [k, v] of Object.entries(value)) totals[k] = (totals[k] ?? 0) + (parseQuantity(v) ?? 0);
  return Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, String(v)]));
}

function isPodCreate(attributes: AdmissionAttributes): boolean {
  return attributes.operation === 'CREATE' && attributes.group === '' && attributes.resource === 'pods' && attributes.subresource === '';
}

export class LimitRangerAdmission implements MutatingAdmission, ValidatingAdmission {
  constructor(private readonly list: LimitRangeLister) {}

  async admit(attributes: AdmissionAttributes): Promise<void> {
    if (!isPodCreate(attributes) || !attributes.object) return;
    const ranges = await this.list(attributes.namespace);
    const defaultRequests: Quantities = {};
    const defaultLimits: Quantities = {};
    for (const range of ranges) {
      for (const item of limitsOf(range, 'Container')) {
        Object.assign(defaultRequests, quantities(item.defaultRequest));
        Object.assign(defaultLimits, quantities(item.default));
      }
    }
    if (Object.keys(defaultRequests).length === 0 && Object.keys(defaultLimits).length === 0) return;
    const notes: string[] = [];
    for (const container of containersOf(attributes.object)) {
      const resources = isPlainObject(container.resources) ? container.resources : (container.resources = {}) as Json;
      const limits = isPlainObject(resources.limits) ? resources.limits : {};
      const requests = isPlainObject(resources.requests) ? resources.requests : {};
      const setLimits: string[] = [];
      const setRequests: string[] = [];
      for (const [name, value] of Object.entries(defaultLimits)) if (limits[name] === undefined) { limits[name] = value; setLimits.push(name); }
      // A request missing where a limit exists defaults to the limit (pod defaulting), before the range's request.
      for (const [name, value] of Object.entries(defaultRequests)) if (requests[name] === undefined) { requests[name] = limits[name] !== undefined && !setLimits.includes(name) ? limits[name] : value; setRequests.push(name); }
      if (setLimits.length) resources.limits = limits;
      if (setRequests.length) resources.requests = requests;
      if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for container ${String(container.name)}`);
      if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for container ${String(container.name)}`);
    }
    if (notes.length > 0) {
      // kube-apiserver computes status.qosClass in PrepareForCreate, after mutating admission: the class follows
      // the requests and limits set here (this store prepares before admission, so it is recomputed).
      if (isPlainObject(attributes.object.status)) attributes.object.status.qosClass = computePodQOS(attributes.object);
      const metadata = attributes.object.metadata;
      metadata.annotations = { ...(metadata.annotations ?? {}), [ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
    }
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    if (!isPodCreate(attributes) || !attributes.object) return;
    const ranges = await this.list(attributes.namespace);
    const errors: string[] = [];
    const containers = containersOf(attributes.object).map(resourcesOf);
    for (const range of ranges) {
      for (const item of limitsOf(range, 'Container')) for (const c of containers) check('Container', item, c.requests, c.limits, errors);
      for (const item of limitsOf(range, 'Pod')) check('Pod', item, sum(containers.map((c) => c.requests)), sum(containers.map((c) => c.limits)), errors);
    }
    if (errors.length === 0) return;
    const name = attributes.object.metadata.name ?? attributes.name;
    throw forbidden(`pods "${name}" is forbidden: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`, { group: '', resource: 'pods' }, name);
  }
}
