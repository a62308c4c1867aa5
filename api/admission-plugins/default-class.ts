// The DefaultStorageClass (plugin/pkg/admission/storage/storageclass/setdefault) and
// DefaultIngressClass (plugin/pkg/admission/network/defaultingressclass) admission plugins: a new
// PersistentVolumeClaim without a class gets the default StorageClass, a new Ingress without a
// class (field or legacy annotation) gets the default IngressClass. The default is the class whose
// is-default-class annotation is "true"; with several, the newest (then by name), as upstream.

import type { AdmissionAttributes, MutatingAdmission } from '../admission.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { DEFAULT_INGRESS_CLASS_ANNOTATION } from '../resources/ingressclasses.ts';
import { INGRESS_CLASS_ANNOTATION } from '../resources/ingresses.ts';
import { BETA_STORAGE_CLASS_ANNOTATION } from '../resources/persistentvolumes.ts';
import { isDefaultStorageClass } from '../resources/storageclasses.ts';

/** Lists every object of a cluster-scoped kind. */
export type ClassLister = () => Promise<KubeObject[]>;

/** The newest of the classes marked default (ties broken by name), or undefined. */
export function pickDefaultClass(classes: KubeObject[], isDefault: (object: KubeObject) => boolean): KubeObject | undefined {
  const defaults = classes.filter(isDefault);
  defaults.sort((a, b) => {
    const byTime = String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? ''));
    return byTime !== 0 ? byTime : String(a.metadata.name).localeCompare(String(b.metadata.name));
  });
  return defaults[0];
}

function specOf(object: KubeObject): Record<string, unknown> {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Record<string, unknown>;
}

export class DefaultStorageClassAdmission implements MutatingAdmission {
  constructor(private readonly storageClasses: ClassLister) {}

  async admit(attributes: AdmissionAttributes): Promise<void> {
    if (attributes.operation !== 'CREATE' || attributes.group !== '' || attributes.resource !== 'persistentvolumeclaims' || attributes.subresource !== '') return;
    const claim = attributes.object;
    if (!claim) return;
    const spec = specOf(claim);
    if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
    if (claim.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] !== undefined) return;
    const chosen = pickDefaultClass(await this.storageClasses(), isDefaultStorageClass);
    if (chosen?.metadata.name) spec.storageClassName = chosen.metadata.name;
  }
}

export class DefaultIngressClassAdmission implements MutatingAdmission {
  constructor(private readonly ingressClasses: ClassLister) {}

  async admit(attributes: AdmissionAttributes): Promise<void> {
    if (attributes.operation !== 'CREATE' || attributes.group !== 'networking.k8s.io' || attributes.resource !== 'ingresses' || attributes.subresource !== '') return;
    const ingress = attributes.object;
    if (!ingress) return;
    const spec = specOf(ingress);
    if (spec.ingressClassName !== undefined && spec.ingressClassName !== null) return;
    if (ingress.metadata.annotations?.[INGRESS_CLASS_ANNOTATION] !== undefined) return;
    const chosen = pickDefaultClass(await this.ingressClasses(), (c) => c.metadata.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true');
    if (chosen?.metadata.name) spec.ingressClassName = chosen.metadata.name;
  }
}
