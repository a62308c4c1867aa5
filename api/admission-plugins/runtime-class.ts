// The RuntimeClass admission plugin (plugin/pkg/admission/runtimeclass) for pod creation: a pod naming a
// RuntimeClass that does not exist is refused; the class's overhead becomes the pod's spec.overhead (a pod
// that set a different one is refused) and its scheduling constraints are merged into the pod's
// nodeSelector and tolerations, so the scheduler places the pod only where the runtime is. A pod with an
// overhead but no class defining one is refused too.

import { isDeepStrictEqual } from 'node:util';
import type { AdmissionAttributes, MutatingAdmission, ValidatingAdmission } from '../admission.ts';
import { forbidden, StatusError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { parseQuantity, quantitiesEqual } from '../resources/quantity.ts';

export const RUNTIME_CLASS_PLUGIN_NAME = 'RuntimeClass';

/** Reads a RuntimeClass; undefined when it does not exist. */
export type RuntimeClassGetter = (name: string) => Promise<KubeObject | undefined>;

type Json = Record<string, unknown>;

const PODS = { group: '', resource: 'pods' };

function podForbidden(attributes: AdmissionAttributes, why: string): StatusError {
  return forbidden(`pods "${attributes.name}" is forbidden: ${why}`, PODS, attributes.name);
}

/** apiequality.Semantic.DeepEqual of two ResourceLists: the same names, quantities equal by value. */
function sameResourceList(a: Json, b: Json): boolean {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every((name) => {
    if (!Object.hasOwn(b, name)) return false;
    const x = parseQuantity(a[name]);
    const y = parseQuantity(b[name]);
    return x !== undefined && y !== undefined ? quantitiesEqual(x, y) : a[name] === b[name];
  });
}

/** tolerations.isSuperset: whether `ss` tolerates everything `t` does. */
function isSuperset(ss: Json, t: Json): boolean {
  if (isDeepStrictEqual(ss, t)) return true;
  if (t.key !== ss.key && ((ss.key ?? '') !== '' || ss.operator !== 'Exists')) return false;
  if (t.effect !== ss.effect && (ss.effect ?? '') !== '') return false;
  if (ss.effect === 'NoExecute' && typeof ss.tolerationSeconds === 'number') {
    if (typeof t.tolerationSeconds !== 'number' || t.tolerationSeconds > ss.tolerationSeconds) return false;
  }
  switch (ss.operator ?? '') {
    case 'Equal':
    case '':
      return t.operator === 'Equal' && (t.value ?? '') === (ss.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** tolerations.MergeTolerations: both sets, leaving out any toleration another one already covers. */
export function mergeTolerations(first: Json[], second: Json[]): Json[] {
  const all = [...first, ...second];
  const merged: Json[] = [];
  next: for (let i = 0; i < all.length; i++) {
    const t = all[i];
    for (const kept of merged) if (isSuperset(kept, t)) continue next;
    for (const later of all.slice(i + 1)) {
      if (!isDeepStrictEqual(t, later) && isSuperset(later, t)) continue next;
    }
    merged.push(t);
  }
  return merged;
}

export class RuntimeClassAdmission implements MutatingAdmission, ValidatingAdmission {
  constructor(private readonly getRuntimeClass: RuntimeClassGetter) {}

  private async prepare(attributes: AdmissionAttributes): Promise<{ spec: Json; runtimeClass?: KubeObject } | undefined> {
    if (attributes.operation !== 'CREATE' || attributes.subresource !== '' || attributes.group !== '' || attributes.resource !== 'pods') return undefined;
    const pod = attributes.object;
    if (!pod || !isPlainObject(pod.spec)) return undefined;
    const name = pod.spec.runtimeClassName;
    if (typeof name !== 'string' || name === '') return { spec: pod.spec };
    const runtimeClass = await this.getRuntimeClass(name);
    if (!runtimeClass) throw podForbidden(attributes, `pod rejected: RuntimeClass "${name}" not found`);
    return { spec: pod.spec, runtimeClass };
  }

  async admit(attributes: AdmissionAttributes): Promise<void> {
    const prepared = await this.prepare(attributes);
    if (!prepared?.runtimeClass) return;
    const { spec, runtimeClass } = prepared;
    const podFixed = isPlainObject(runtimeClass.overhead) && isPlainObject(runtimeClass.overhead.podFixed) ? runtimeClass.overhead.podFixed : undefined;
    if (podFixed) {
      const current = isPlainObject(spec.overhead) ? spec.overhead : {};
      if (Object.keys(current).length > 0 && !sameResourceList(podFixed, current)) {
        throw podForbidden(attributes, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
      }
      spec.overhead = { ...podFixed };
    }
    const scheduling = isPlainObject(runtimeClass.scheduling) ? runtimeClass.scheduling : undefined;
    if (!scheduling) return;
    const classSelector = isPlainObject(scheduling.nodeSelector) ? scheduling.nodeSelector : {};
    if (isPlainObject(spec.nodeSelector)) {
      const selector = spec.nodeSelector;
      for (const [key, value] of Object.entries(classSelector)) {
        if (Object.hasOwn(selector, key) && selector[key] !== value) {
          throw podForbidden(attributes, `conflict: runtimeClass.scheduling.nodeSelector[${key}] = ${String(value)}; pod.spec.nodeSelector[${key}] = ${String(selector[key])}`);
        }
        selector[key] = value;
      }
    } else if (isPlainObject(scheduling.nodeSelector)) {
      spec.nodeSelector = { ...classSelector };
    }
    const podTolerations = Array.isArray(spec.tolerations) ? spec.tolerations.filter(isPlainObject) : [];
    const classTolerations = Array.isArray(scheduling.tolerations) ? scheduling.tolerations.filter(isPlainObject) : [];
    if (classTolerations.length > 0) spec.tolerations = mergeTolerations(podTolerations, classTolerations);
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    const prepared = await this.prepare(attributes);
    if (!prepared) return;
    const { spec, runtimeClass } = prepared;
    const podFixed = isPlainObject(runtimeClass?.overhead) && isPlainObject(runtimeClass.overhead.podFixed) ? runtimeClass.overhead.podFixed : undefined;
    if (podFixed) {
      if (!isPlainObject(spec.overhead) || !sameResourceList(podFixed, spec.overhead)) {
        throw podForbidden(attributes, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
      }
    } else if (spec.overhead !== undefined && spec.overhead !== null) {
      throw podForbidden(attributes, 'pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
    }
  }
}
