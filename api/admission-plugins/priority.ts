// The Priority admission plugin (plugin/pkg/admission/priority): on pod creation, resolves
// spec.priorityClassName (or the globalDefault class when none is named) to spec.priority and
// spec.preemptionPolicy, refusing an unknown class and a priority or policy the client set that disagrees;
// keeps both on updates. For PriorityClasses it allows only one globalDefault. It also stands for the
// PriorityClass REST storage's Delete, which refuses to delete the two system classes.

import type { AdmissionAttributes, MutatingAdmission, ValidatingAdmission } from '../admission.ts';
import { forbidden, StatusError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { SYSTEM_PRIORITY_CLASSES } from '../resources/priorityclasses.ts';

export const PRIORITY_PLUGIN_NAME = 'Priority';
/** scheduling.DefaultPriorityWhenNoDefaultClassExists. */
const DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS = 0;

/** Every stored PriorityClass (the plugin's lister). */
export type PriorityClassLister = () => Promise<KubeObject[]>;

const PODS = { group: '', resource: 'pods' };
const PRIORITY_CLASSES = { group: 'scheduling.k8s.io', resource: 'priorityclasses' };

/** getDefaultPriorityClass: the globalDefault class, the lowest value winning if a race left several. */
export function defaultPriorityClass(classes: readonly KubeObject[]): KubeObject | undefined {
  let chosen: KubeObject | undefined;
  for (const pc of classes) {
    if (pc.globalDefault !== true) continue;
    if (!chosen || (chosen.value as number) > (pc.value as number)) chosen = pc;
  }
  return chosen;
}

function podForbidden(attributes: AdmissionAttributes, why: string): StatusError {
  return forbidden(`pods "${attributes.name}" is forbidden: ${why}`, PODS, attributes.name);
}

export class PriorityAdmission implements MutatingAdmission, ValidatingAdmission {
  constructor(private readonly listPriorityClasses: PriorityClassLister) {}

  async admit(attributes: AdmissionAttributes): Promise<void> {
    if (attributes.subresource !== '' || attributes.group !== '' || attributes.resource !== 'pods') return;
    const pod = attributes.object;
    if (!pod || !isPlainObject(pod.spec)) return;
    const spec = pod.spec;
    if (attributes.operation === 'UPDATE') {
      // Set on create; kept when an update leaves them out (validation refuses any change to them).
      const old = attributes.oldObject?.spec;
      if (isPlainObject(old)) {
        if (spec.priority === undefined && old.priority !== undefined) spec.priority = old.priority;
        if (spec.preemptionPolicy === undefined && old.preemptionPolicy !== undefined) spec.preemptionPolicy = old.preemptionPolicy;
      }
      return;
    }
    if (attributes.operation !== 'CREATE') return;

    const classes = await this.listPriorityClasses();
    const className = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : '';
    let priority: number;
    let preemptionPolicy: string;
    if (className === '') {
      const fallback = defaultPriorityClass(classes);
      priority = typeof fallback?.value === 'number' ? fallback.value : DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS;
      preemptionPolicy = typeof fallback?.preemptionPolicy === 'string' ? fallback.preemptionPolicy : 'PreemptLowerPriority';
      if (fallback) spec.priorityClassName = fallback.metadata.name;
    } else {
      const pc = classes.find((candidate) => candidate.metadata.name === className);
      if (!pc) throw podForbidden(attributes, `no PriorityClass with name ${className} was found`);
      priority = typeof pc.value === 'number' ? pc.value : 0;
      preemptionPolicy = typeof pc.preemptionPolicy === 'string' ? pc.preemptionPolicy : 'PreemptLowerPriority';
    }
    if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
      throw podForbidden(attributes, `the integer value of priority (${String(spec.priority)}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
    }
    spec.priority = priority;
    if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null && spec.preemptionPolicy !== preemptionPolicy) {
      throw podForbidden(attributes, `the string value of PreemptionPolicy (${String(spec.preemptionPolicy)}) must not be provided in pod spec; priority admission controller computed ${preemptionPolicy} from the given PriorityClass name`);
    }
    spec.preemptionPolicy = preemptionPolicy;
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    if (attributes.subresource !== '' || attributes.group !== PRIORITY_CLASSES.group || attributes.resource !== PRIORITY_CLASSES.resource) return;
    if (attributes.operation === 'DELETE') {
      if (SYSTEM_PRIORITY_CLASSES.some((pc) => pc.name === attributes.name)) {
        throw forbidden(`priorityclasses.scheduling.k8s.io "${attributes.name}" is forbidden: this is a system priority class and cannot be deleted`,
          PRIORITY_CLASSES, attributes.name);
      }
      return;
    }
    const pc = attributes.object;
    if (!pc || pc.globalDefault !== true) return;
    const existing = defaultPriorityClass(await this.listPriorityClasses());
    if (!existing) return;
    const existingName = existing.metadata.name ?? '';
    if (attributes.operation === 'CREATE' || existingName !== pc.metadata.name) {
      throw forbidden(`priorityclasses.scheduling.k8s.io "${attributes.name}" is forbidden: PriorityClass ${existingName} is already marked as default. Only one default can exist`,
        PRIORITY_CLASSES, attributes.name);
    }
  }
}
