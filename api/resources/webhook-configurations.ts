// admissionregistration.k8s.io/v1 MutatingWebhookConfiguration and ValidatingWebhookConfiguration
// (cluster-scoped; pkg/registry/admissionregistration): defaulted and validated as upstream, the
// table is NAME, WEBHOOKS, AGE. The webhooks themselves are called by auth/admission/.

import type { ResourceStrategy } from '../resource.ts';
import { age, ageColumn, column, nameColumn } from './printing.ts';
import { ADMISSION_GROUP, defaultWebhooks, validateWebhooks, webhooksOf } from './webhook-validation.ts';

const table: ResourceStrategy['table'] = {
  columns: [nameColumn(), { ...column('Webhooks', 'Webhooks indicates the number of webhooks registered'), type: 'integer' }, ageColumn()],
  cells: (config, now) => [config.metadata.name ?? '', webhooksOf(config).length, age(config.metadata.creationTimestamp, now)],
};

export const mutatingWebhookConfigurationStrategy: ResourceStrategy = {
  group: ADMISSION_GROUP,
  version: 'v1',
  kind: 'MutatingWebhookConfiguration',
  listKind: 'MutatingWebhookConfigurationList',
  resource: 'mutatingwebhookconfigurations',
  singular: 'mutatingwebhookconfiguration',
  shortNames: [],
  categories: ['api-extensions'],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'mutatingwebhookconfigurations',
  hasStatus: false,
  subresources: [],
  tracksGeneration: true,
  applyDefaults: (config) => defaultWebhooks(config, true),
  validate: (config) => validateWebhooks(config, true),
  validateUpdate: (config) => validateWebhooks(config, true),
  selectableFieldNames: [],
  table,
};

export const validatingWebhookConfigurationStrategy: ResourceStrategy = {
  ...mutatingWebhookConfigurationStrategy,
  kind: 'ValidatingWebhookConfiguration',
  listKind: 'ValidatingWebhookConfigurationList',
  resource: 'validatingwebhookconfigurations',
  singular: 'validatingwebhookconfiguration',
  storageResource: 'validatingwebhookconfigurations',
  applyDefaults: (config) => defaultWebhooks(config, false),
  validate: (config) => validateWebhooks(config, false),
  validateUpdate: (config) => validateWebhooks(config, false),
};
