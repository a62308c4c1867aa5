// The ResourceQuota admission plugin (plugin/pkg/admission/resourcequota): a create in a namespace with
// quotas is checked against each quota's status.used + what the object adds; past `hard` it is refused
// with upstream's message (`exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2`), and a
// quota whose usage the controller has not computed yet refuses too (`status unknown for quota: q,
// resources: pods`). Admitted usage is added to status.used at once (compare-and-swap of the quota), as
// upstream does, so concurrent creates cannot overrun it; the quota controller recomputes it from the objects.
// A quota with scopes is charged only by the pods they select (api/quota/scopes.ts).

import type { AdmissionAttributes, ValidatingAdmission } from '../admission.ts';
import { forbidden } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { quotaScopesMatch } from '../quota/scopes.ts';
import { formatQuantity, usageOf, type Usage } from '../quota/usage.ts';
import { parseQuantity } from '../resources/quantity.ts';
import type { Storage } from '../../storage/interface.ts';

function quantities(value: unknown): Usage {
  const out: Usage = {};
  if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) { const q = parseQuantity(v); if (q !== undefined) out[k] = q; }
  return out;
}

const pretty = (usage: [string, number][]) => usage.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${formatQuantity(k, v)}`).join(',');

export class ResourceQuotaAdmission implements ValidatingAdmission {
  constructor(private readonly storage: Storage) {}

  async validate(attributes: AdmissionAttributes): Promise<void> {
    if (attributes.operation !== 'CREATE' || attributes.subresource !== '' || !attributes.object || !attributes.namespace) return;
    const prefix = `/registry/resourcequotas/${attributes.namespace}/`;
    const quotas = (await this.storage.list(prefix)).items;
    if (quotas.length === 0) return;
    const delta = usageOf(attributes.resource, attributes.object, attributes.group);
    const name = attributes.object.metadata.name ?? attributes.name;
    const refuse = (message: string) => forbidden(`${attributes.resource} "${name}" is forbidden: ${message}`, { group: attributes.group, resource: attributes.resource }, name);
    const charged: { quota: KubeObject; usage: [string, number][] }[] = [];
    for (const quota of quotas) {
      const hard = quantities(isPlainObject(quota.spec) ? quota.spec.hard : undefined);
      const relevant = Object.keys(delta).filter((key) => key in hard && delta[key] > 0);
      if (relevant.length === 0) continue;
      // A scoped quota tracks only the pods its scopes select (BestEffort, Terminating, ...).
      if (!quotaScopesMatch(quota, attributes.resource, attributes.object, attributes.group)) continue;
      const used = quantities(isPlainObject(quota.status) ? quota.status.used : undefined);
      const unknown = relevant.filter((key) => !(key in used)).sort();
      if (unknown.length > 0) throw refuse(`status unknown for quota: ${quota.metadata.name}, resources: ${unknown.join(',')}`);
      const exceeded = relevant.filter((key) => used[key] + delta[key] > hard[key] + 1e-9);
      if (exceeded.length > 0) {
        throw refuse(`exceeded quota: ${quota.metadata.name}, requested: ${pretty(exceeded.map((k) => [k, delta[k]]))}, `
          + `used: ${pretty(exceeded.map((k) => [k, used[k]]))}, limited: ${pretty(exceeded.map((k) => [k, hard[k]]))}`);
      }
      charged.push({ quota, usage: relevant.map((k) => [k, delta[k]]) });
    }
    if (attributes.dryRun) return;
    for (const { quota, usage } of charged) {
      await this.storage.guaranteedUpdate(`${prefix}${quota.metadata.name}`, (current) => {
        const status = isPlainObject(current.status) ? current.status : {};
        const hard = quantities(isPlainObject(current.spec) ? current.spec.hard : undefined);
        const used = quantities(status.used);
        const next: Record<string, string> = isPlainObject(status.used) ? { ...(status.used as Record<string, string>) } : {};
        for (const [key, value] of usage) {
          // Someone else took the room meanwhile: refuse rather than overrun (upstream retries then refuses).
          if ((used[key] ?? 0) + value > (hard[key] ?? Infinity) + 1e-9) {
            throw refuse(`exceeded quota: ${current.metadata.name}, requested: ${pretty([[key, value]])}, used: ${pretty([[key, used[key] ?? 0]])}, limited: ${pretty([[key, hard[key]]])}`);
          }
          next[key] = formatQuantity(key, (used[key] ?? 0) + value);
        }
        return { ...current, status: { ...status, used: next } };
      });
    }
  }
}
