// core/v1 ServiceAccount, with the TokenRequest subresource `serviceaccounts/token` (served by
// server/service-account-token.ts). Table as printServiceAccount.

import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { age, ageColumn, column, list, nameColumn } from './printing.ts';

export const serviceAccountStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  listKind: 'ServiceAccountList',
  resource: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'serviceaccounts',
  hasStatus: false,
  subresources: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', verbs: ['create'] }],
  tracksGeneration: false,

  validateName: nameIsDNSSubdomain,
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Secrets', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret'),
      ageColumn(),
    ],
    cells: (account, now) => [account.metadata.name ?? '', list(account, 'secrets').length, age(account.metadata.creationTimestamp, now)],
  },
};
