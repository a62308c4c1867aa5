// The stored admission configuration the plugins read on every write: webhook configurations,
// ValidatingAdmissionPolicies and their bindings, each kept current by an ObjectSource.

import type { Storage } from '../../storage/interface.ts';
import { ObjectSource } from './object-source.ts';

export interface AdmissionSources {
  mutatingWebhooks: ObjectSource;
  validatingWebhooks: ObjectSource;
  policies: ObjectSource;
  bindings: ObjectSource;
  stop(): void;
}

export async function startAdmissionSources(storage: Storage, onError?: (error: unknown) => void): Promise<AdmissionSources> {
  const [mutatingWebhooks, validatingWebhooks, policies, bindings] = await Promise.all([
    ObjectSource.start(storage, '/registry/mutatingwebhookconfigurations/', onError),
    ObjectSource.start(storage, '/registry/validatingwebhookconfigurations/', onError),
    ObjectSource.start(storage, '/registry/validatingadmissionpolicies/', onError),
    ObjectSource.start(storage, '/registry/validatingadmissionpolicybindings/', onError),
  ]);
  return {
    mutatingWebhooks, validatingWebhooks, policies, bindings,
    stop() {
      for (const source of [mutatingWebhooks, validatingWebhooks, policies, bindings]) source.stop();
    },
  };
}
