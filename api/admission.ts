// Validating admission (k8s.io/apiserver/pkg/admission): checks the generic store runs on every write,
// after the strategy has prepared and defaulted the object and before validation and storage. A plugin
// refuses by throwing a StatusError. RBAC escalation prevention and NodeRestriction are plugins.

import type { KubeObject } from './object.ts';
import type { UserInfo } from '../auth/user.ts';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface AdmissionAttributes {
  operation: AdmissionOperation;
  group: string;
  resource: string;
  /** '' or 'status' (the generic store's subresources). */
  subresource: string;
  namespace: string;
  /** The object's name (on create, the name from the body). */
  name: string;
  /** The object to be written (CREATE, UPDATE). */
  object?: KubeObject;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: KubeObject;
  user: UserInfo;
}

export interface ValidatingAdmission {
  validate(attributes: AdmissionAttributes): void;
}

export class AdmissionChain implements ValidatingAdmission {
  constructor(private readonly plugins: ValidatingAdmission[]) {}

  validate(attributes: AdmissionAttributes): void {
    for (const plugin of this.plugins) plugin.validate(attributes);
  }
}
