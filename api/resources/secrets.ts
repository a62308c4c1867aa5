// core/v1 Secret: type Opaque by default, `stringData` merged into `data` (what the v1 → internal
// conversion does on every write), ValidateSecret's required keys per type, `immutable`, the
// `type` field selector, and printSecret's table. Stored as sent unless encryption at rest is set.

import { invalidField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { decodedLength, MAX_SECRET_SIZE, stringMap, tooLong, validateImmutableData, validateKeys } from './config-data.ts';
import { age, ageColumn, column, nameColumn, str } from './printing.ts';

export const SECRET_TYPE_OPAQUE = 'Opaque';
export const SECRET_TYPE_SERVICE_ACCOUNT_TOKEN = 'kubernetes.io/service-account-token';
export const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
const SECRET_TYPE_DOCKERCFG = 'kubernetes.io/dockercfg';
const SECRET_TYPE_DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
const SECRET_TYPE_BASIC_AUTH = 'kubernetes.io/basic-auth';
const SECRET_TYPE_SSH_AUTH = 'kubernetes.io/ssh-auth';
const SECRET_TYPE_TLS = 'kubernetes.io/tls';

/** Convert_v1_Secret_To_core_Secret: stringData entries overwrite data entries, then stringData is gone. */
export function mergeStringData(secret: KubeObject): void {
  if (!isPlainObject(secret.stringData)) {
    delete secret.stringData;
    return;
  }
  const data = isPlainObject(secret.data) ? secret.data : {};
  for (const [key, value] of Object.entries(secret.stringData)) {
    if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  secret.data = data;
  delete secret.stringData;
}

/** Go's encoding/json error for what json.Unmarshal into a map would say about `bytes`. */
function jsonObjectError(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const first = text.trimStart()[0];
    if (first === undefined) return 'unexpected end of JSON input';
    if (!'{["-0123456789tfn'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
    return 'unexpected end of JSON input';
  }
  if (isPlainObject(parsed)) return undefined;
  const kind = Array.isArray(parsed) ? 'array' : parsed === null ? undefined : typeof parsed === 'boolean' ? 'bool' : typeof parsed;
  return kind ? `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}` : undefined;
}

export function validateSecret(secret: KubeObject): FieldError[] {
  const data = stringMap(secret, 'data');
  const errs = validateKeys(Object.keys(data), 'data');
  let totalSize = 0;
  for (const value of Object.values(data)) totalSize += decodedLength(value);
  if (totalSize > MAX_SECRET_SIZE) errs.push(tooLong('data', MAX_SECRET_SIZE));
  const has = (key: string) => Object.prototype.hasOwnProperty.call(data, key);
  const dockerConfig = (key: string) => {
    if (!has(key)) {
      errs.push(requiredField(`data[${key}]`));
      return;
    }
    const problem = jsonObjectError(Buffer.from(data[key], 'base64'));
    if (problem) errs.push(invalidField(`data[${key}]`, '<secret contents redacted>', problem));
  };
  switch (str(secret, 'type')) {
    case SECRET_TYPE_SERVICE_ACCOUNT_TOKEN:
      if (!secret.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION]) {
        errs.push(requiredField(`metadata.annotations[${SERVICE_ACCOUNT_NAME_ANNOTATION}]`));
      }
      break;
    case SECRET_TYPE_DOCKERCFG:
      dockerConfig('.dockercfg');
      break;
    case SECRET_TYPE_DOCKER_CONFIG_JSON:
      dockerConfig('.dockerconfigjson');
      break;
    case SECRET_TYPE_BASIC_AUTH:
      // Either may be empty, but one of the two keys must be present.
      if (!has('username') && !has('password')) errs.push(requiredField('data[username]'), requiredField('data[password]'));
      break;
    case SECRET_TYPE_SSH_AUTH:
      if (!data['ssh-privatekey']) errs.push(requiredField('data[ssh-privatekey]'));
      break;
    case SECRET_TYPE_TLS:
      if (!has('tls.crt')) errs.push(requiredField('data[tls.crt]'));
      if (!has('tls.key')) errs.push(requiredField('data[tls.key]'));
      break;
    default:
      // Opaque, bootstrap.kubernetes.io/token and custom types: no key requirements in kube-apiserver.
      break;
  }
  return errs;
}

function validateSecretUpdate(secret: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (str(secret, 'type') !== str(old, 'type')) errs.push(invalidField('type', str(secret, 'type'), FIELD_IMMUTABLE_MESSAGE));
  errs.push(...validateImmutableData(secret, old, ['data']));
  errs.push(...validateSecret(secret));
  return errs;
}

export const secretStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  listKind: 'SecretList',
  resource: 'secrets',
  singular: 'secret',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'secrets',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  applyDefaults(secret) {
    mergeStringData(secret);
    if (typeof secret.type !== 'string' || secret.type === '') secret.type = SECRET_TYPE_OPAQUE;
  },
  validateName: nameIsDNSSubdomain,
  validate: (secret) => validateSecret(secret),
  validateUpdate: validateSecretUpdate,
  selectableFieldNames: ['type'],
  selectableFields: (secret) => ({ type: str(secret, 'type') }),
  table: {
    columns: [
      nameColumn(),
      column('Type', 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types'),
      column('Data', "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"),
      ageColumn(),
    ],
    cells: (secret, now) => [
      secret.metadata.name ?? '', str(secret, 'type'), Object.keys(stringMap(secret, 'data')).length, age(secret.metadata.creationTimestamp, now),
    ],
  },
};
