// Admission (k8s.io/apiserver/pkg/admission): one ordered chain that the generic store runs on every
// write, as kube-apiserver does. Mutating plugins run after the strategy has prepared and defaulted the
// object and may change `attributes.object` in place; then the object is validated (schema and strategy);
// then validating plugins run and may only refuse. A plugin refuses by throwing a StatusError.
// Plugins may be asynchronous (webhooks, lookups through the store). RBAC escalation prevention and
// NodeRestriction are validating plugins; new plugins are one file each, placed in the chain where
// kube-apiserver's recommended plugin order puts them.

import type { KubeObject } from './object.ts';
import type { UserInfo } from '../auth/user.ts';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: AdmissionOperation;
  group: string;
  /** The API version of the resource written (e.g. 'v1'); absent from callers that do not know it. */
  version?: string;
  /** The kind of the resource written (e.g. 'Pod'). */
  kind?: string;
  resource: string;
  /** '' or 'status' (the generic store's subresources). */
  subresource: string;
  namespace: string;
  /** The object's name (on create, the name from the body). */
  name: string;
  /**
   * The object to be written (CREATE, UPDATE). Mutating plugins change it in place. For CONNECT, the
   * request's options (PodExecOptions, PodAttachOptions, PodPortForwardOptions), which have no metadata.
   */
  object?: KubeObject;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: KubeObject;
  user: UserInfo;
  /** A dry run: plugins with side effects must not perform them (webhooks: sideEffects). */
  dryRun?: boolean;
  /** Warnings for the client's `Warning:` headers (webhook warnings, policies with action Warn). */
  warnings?: string[];
  /** Annotations for the request's audit event (`<webhook>/<key>`, policy audit annotations). */
  auditAnnotations?: Record<string, string>;
}

export interface MutatingAdmission {
  admit(attributes: AdmissionAttributes): void | Promise<void>;
  /** The plugin handles CONNECT (admission.Handles(admission.Connect)): only such plugins see connect requests. */
  readonly handlesConnect?: boolean;
}

export interface ValidatingAdmission {
  validate(attributes: AdmissionAttributes): void | Promise<void>;
  readonly handlesConnect?: boolean;
}

/** The mutating plugins in order, then the validating plugins in order. */
export class AdmissionChain {
  constructor(
    private readonly validating: ValidatingAdmission[],
    private readonly mutating: MutatingAdmission[] = [],
  ) {}

  async admit(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.mutating) await plugin.admit(attributes);
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.validating) await plugin.validate(attributes);
  }

  /**
   * A CONNECT request (pods/exec, pods/attach, pods/portforward), as handlers.ConnectResource admits it
   * before connecting: the mutating then the validating plugins that handle CONNECT.
   */
  async connect(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.mutating) if (plugin.handlesConnect) await plugin.admit(attributes);
    for (const plugin of this.validating) if (plugin.handlesConnect) await plugin.validate(attributes);
  }
}
