// storage.k8s.io/v1 VolumeAttachment: status reset on create (attached: false) and kept by the
// main resource, ValidateVolumeAttachment + ValidateVolumeAttachmentV1 (attacher, exactly one
// source, node name), an immutable spec, the status checks (metadata size, error messages) and
// printVolumeAttachment. The external attacher writes /status.

import { isDeepStrictEqual } from 'node:util';
import { forbiddenField, invalidField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { inclusiveRangeError, isDNS1123Subdomain, nameIsDNSSubdomain } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { SWAGGER_DOCS } from './column-descriptions.ts';
import { age, ageColumn, column, field, nameColumn, obj, str } from './printing.ts';
import { tooLongField, validateCSIDriverName } from './storage-validation.ts';

const MAX_ATTACHED_VOLUME_METADATA_SIZE = 256 * 1024;
const MAX_VOLUME_ERROR_MESSAGE_SIZE = 1024;
const EXACTLY_ONE_SOURCE = 'must specify exactly one of inlineVolumeSpec and persistentVolumeName';

/** Set by the PersistentVolume strategy (its spec validation checks inline volume specs). */
let inlineVolumeSpecValidator: ((spec: unknown, path: string) => FieldError[]) | undefined;
export function setInlineVolumeSpecValidator(validator: (spec: unknown, path: string) => FieldError[]): void {
  inlineVolumeSpecValidator = validator;
}

function validateSpec(attachment: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const attacher = str(attachment, 'spec', 'attacher');
  if (attacher === '') errs.push(requiredField('spec.attacher'));
  const source = obj(attachment, 'spec', 'source') ?? {};
  const pvName = source.persistentVolumeName;
  const inline = source.inlineVolumeSpec;
  const hasPv = pvName !== undefined && pvName !== null;
  const hasInline = inline !== undefined && inline !== null;
  if (!hasPv && !hasInline) errs.push(requiredField('spec.source', EXACTLY_ONE_SOURCE));
  else if (hasPv && hasInline) errs.push(forbiddenField('spec.source', EXACTLY_ONE_SOURCE));
  else if (hasPv && pvName === '') errs.push(requiredField('spec.source.persistentVolumeName', 'must specify non empty persistentVolumeName'));
  else if (hasInline && inlineVolumeSpecValidator) errs.push(...inlineVolumeSpecValidator(inline, 'spec.source.inlineVolumeSpec'));
  const nodeName = str(attachment, 'spec', 'nodeName');
  errs.push(...isDNS1123Subdomain(nodeName).map((msg) => invalidField('spec.nodeName', nodeName, msg)));
  errs.push(...validateStatus(attachment));
  // ValidateVolumeAttachmentV1: the attacher is a CSI driver name, the volume name a PV name.
  if (attacher !== '') errs.push(...validateCSIDriverName(attacher, 'spec.attacher'));
  if (typeof pvName === 'string' && pvName !== '') {
    errs.push(...isDNS1123Subdomain(pvName).map((msg) => invalidField('spec.source.persistentVolumeName', pvName, msg)));
  }
  return errs;
}

function validateVolumeError(error: unknown, path: string): FieldError[] {
  if (!isPlainObject(error)) return [];
  const errs: FieldError[] = [];
  if (typeof error.message === 'string' && Buffer.byteLength(error.message) > MAX_VOLUME_ERROR_MESSAGE_SIZE) {
    // Upstream reports the metadata limit here too (validateVolumeError passes maxAttachedVolumeMetadataSize).
    errs.push(tooLongField(`${path}.message`, MAX_ATTACHED_VOLUME_METADATA_SIZE));
  }
  if (typeof error.errorCode === 'number' && error.errorCode < 0) {
    errs.push(invalidField(`${path}.errorCode`, error.errorCode, inclusiveRangeError(0, 2147483647)));
  }
  return errs;
}

function validateStatus(attachment: KubeObject): FieldError[] {
  const status = obj(attachment, 'status') ?? {};
  const errs: FieldError[] = [];
  const metadata = isPlainObject(status.attachmentMetadata) ? status.attachmentMetadata : {};
  let size = 0;
  for (const [key, value] of Object.entries(metadata)) size += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  if (size > MAX_ATTACHED_VOLUME_METADATA_SIZE) errs.push(tooLongField('status.attachmentMetadata', MAX_ATTACHED_VOLUME_METADATA_SIZE));
  errs.push(...validateVolumeError(status.attachError, 'status.attachError'));
  errs.push(...validateVolumeError(status.detachError, 'status.detachError'));
  return errs;
}

export const volumeAttachmentStrategy: ResourceStrategy = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'VolumeAttachment',
  listKind: 'VolumeAttachmentList',
  resource: 'volumeattachments',
  singular: 'volumeattachment',
  shortNames: [],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'volumeattachments',
  hasStatus: true,
  subresources: [],
  tracksGeneration: false,

  prepareForCreate(attachment) {
    attachment.status = { attached: false };
  },
  prepareForStatusUpdate(attachment) {
    // VolumeAttachmentStatus.attached is a plain bool: always present.
    if (!isPlainObject(attachment.status)) attachment.status = {};
    (attachment.status as Record<string, unknown>).attached ??= false;
  },
  validateName: nameIsDNSSubdomain,
  validate: (attachment) => validateSpec(attachment),
  validateUpdate: (attachment, old) => {
    const errs = validateSpec(attachment);
    if (!isDeepStrictEqual(attachment.spec, old.spec)) errs.push(invalidField('spec', attachment.spec, FIELD_IMMUTABLE_MESSAGE));
    return errs;
  },
  validateStatusUpdate: (attachment) => validateSpec(attachment),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      { ...column('Attacher', SWAGGER_DOCS['VolumeAttachmentSpec.attacher']), format: 'name' },
      column('PV', SWAGGER_DOCS['VolumeAttachmentSource.persistentVolumeName']),
      column('Node', SWAGGER_DOCS['VolumeAttachmentSpec.nodeName']),
      { ...column('Attached', SWAGGER_DOCS['VolumeAttachmentStatus.attached']), type: 'boolean' },
      ageColumn(),
    ],
    cells: (attachment, now) => [
      attachment.metadata.name ?? '', str(attachment, 'spec', 'attacher'), str(attachment, 'spec', 'source', 'persistentVolumeName'),
      str(attachment, 'spec', 'nodeName'), field(attachment, 'status', 'attached') === true, age(attachment.metadata.creationTimestamp, now),
    ],
  },
};
