// apps/v1 ControllerRevision: immutable snapshots of a StatefulSet's or DaemonSet's template
// (ValidateControllerRevision*, printControllerRevision).

import type { FieldError } from '../errors.ts';
import { invalidField, requiredField } from '../errors.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { age, ageColumn, column, nameColumn } from './printing.ts';
import { validateNonnegative } from './workload-validation.ts';

function validateRevision(revision: Record<string, unknown>): FieldError[] {
  const errs = validateNonnegative(revision.revision, 'revision');
  if (revision.data === undefined || revision.data === null) errs.push(requiredField('data', 'data is mandatory'));
  return errs;
}

export const controllerRevisionStrategy: ResourceStrategy = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  listKind: 'ControllerRevisionList',
  resource: 'controllerrevisions',
  singular: 'controllerrevision',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'controllerrevisions',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  validateName: nameIsDNSSubdomain,
  validate: (revision) => validateRevision(revision as unknown as Record<string, unknown>),
  validateUpdate: (revision, old) => {
    const errs = validateRevision(revision as unknown as Record<string, unknown>);
    if (JSON.stringify(revision.data) !== JSON.stringify(old.data)) errs.push(invalidField('data', '', FIELD_IMMUTABLE_MESSAGE));
    return errs;
  },
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Controller', 'Controller of the object'),
      column('Revision', 'Revision indicates the revision of the state represented by Data.'),
      ageColumn(),
    ],
    cells: (revision, now) => {
      const owner = (revision.metadata.ownerReferences ?? []).find((ref) => ref.controller === true);
      const group = owner ? owner.apiVersion.split('/').slice(0, -1).join('/') : '';
      const controller = owner ? `${owner.kind.toLowerCase()}${group ? `.${group}` : ''}/${owner.name}` : '<none>';
      return [revision.metadata.name ?? '', controller, typeof revision.revision === 'number' ? revision.revision : 0, age(revision.metadata.creationTimestamp, now)];
    },
  },
};
