// coordination.k8s.io/v1 Lease: node heartbeats and leader election. Table as upstream printLease.

import { invalidField, type FieldError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { age, ageColumn, column, nameColumn, num, str } from './printing.ts';

function validateLeaseSpec(lease: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const duration = num(lease, 'spec', 'leaseDurationSeconds');
  if (duration !== undefined && duration <= 0) errs.push(invalidField('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = num(lease, 'spec', 'leaseTransitions');
  if (transitions !== undefined && transitions < 0) errs.push(invalidField('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  return errs;
}

export const leaseStrategy: ResourceStrategy = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  listKind: 'LeaseList',
  resource: 'leases',
  singular: 'lease',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'leases',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  validateName: nameIsDNSSubdomain,
  validate: (lease) => validateLeaseSpec(lease),
  selectableFieldNames: [],
  validateUpdate: (lease) => validateLeaseSpec(lease),
  table: {
    columns: [
      nameColumn(),
      column('Holder', 'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.'),
      ageColumn(),
    ],
    cells: (lease, now) => [lease.metadata.name ?? '', str(lease, 'spec', 'holderIdentity'), age(lease.metadata.creationTimestamp, now)],
  },
};
