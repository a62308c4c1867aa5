// Decodes Kubernetes protobuf request bodies (Content-Type: application/vnd.kubernetes.protobuf) into the
// JSON objects the rest of the server works with. Wire format (k8s.io/apimachinery/pkg/runtime/serializer/protobuf):
// the 4 bytes "k8s\0", then a runtime.Unknown whose typeMeta names the kind and whose raw holds the message.
// The schema comes from the vendored upstream generated.proto files (see proto/README.md).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { badRequest } from '../../api/errors.ts';
import { setOwnValue, type JsonValue, type KubeObject } from '../../api/object.ts';
import { INLINE_FIELDS, messageNameForKind, PROTO_FILES, ZERO_VALUE_FIELDS } from './kinds.ts';

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const PROTO_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'proto');
const UNKNOWN_MESSAGE = 'k8s.io.apimachinery.pkg.runtime.Unknown';

let schema: protobuf.Root | undefined;

/** The protobuf schema, parsed on first use (imports resolve to the vendored tree, as protoc's -I would). */
export function kubernetesProtoRoot(): protobuf.Root {
  if (!schema) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
    root.loadSync([...PROTO_FILES, 'k8s.io/apimachinery/pkg/runtime/generated.proto'], { keepCase: true });
    root.resolveAll();
    schema = root;
  }
  return schema;
}

type Decoded = Record<string, unknown>;

/** Decodes one protobuf-encoded body (magic + runtime.Unknown) into a JSON object with apiVersion and kind set. */
export function decodeProtobufBody(body: Buffer): KubeObject {
  if (body.length < PROTOBUF_MAGIC.length || !body.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) {
    throw badRequest('the body of the request is not a Kubernetes protobuf message: missing the "k8s\\x00" prefix');
  }
  const root = kubernetesProtoRoot();
  const unknown = decodeMessage(root.lookupType(UNKNOWN_MESSAGE), body.subarray(PROTOBUF_MAGIC.length));
  const typeMeta = (unknown.typeMeta ?? {}) as Decoded;
  const apiVersion = typeof typeMeta.apiVersion === 'string' ? typeMeta.apiVersion : '';
  const kind = typeof typeMeta.kind === 'string' ? typeMeta.kind : '';
  if (!kind) throw badRequest("Object 'Kind' is missing in the protobuf body");
  if (unknown.contentEncoding) throw badRequest(`unsupported protobuf content encoding "${String(unknown.contentEncoding)}"`);
  const messageName = messageNameForKind(apiVersion, kind);
  if (!messageName) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const type = root.lookupType(messageName);
  const raw = unknown.raw instanceof Uint8Array ? unknown.raw : new Uint8Array();
  const object = messageToJson(type, decodeMessage(type, raw));
  const metadata = object.metadata;
  return {
    apiVersion,
    kind,
    ...object,
    metadata: (metadata && typeof metadata === 'object' && !Array.isArray(metadata) ? metadata : {}) as KubeObject['metadata'],
  };
}

function decodeMessage(type: protobuf.Type, bytes: Uint8Array): Decoded {
  try {
    // Present fields only (proto2 presence); 64-bit integers as numbers.
    return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: false, objects: false });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw badRequest(`unable to decode protobuf ${type.name}: ${detail}`);
  }
}

const META = '.k8s.io.apimachinery.pkg.apis.meta.v1';

/** Messages whose Go types marshal to JSON as something other than an object. */
const SPECIAL_TYPES: Record<string, (value: Decoded) => JsonValue | undefined> = {
  [`${META}.Time`]: (value) => formatTime(value, false),
  [`${META}.MicroTime`]: (value) => formatTime(value, true),
  '.k8s.io.apimachinery.pkg.api.resource.Quantity': (value) => (typeof value.string === 'string' ? value.string : '0'),
  '.k8s.io.apimachinery.pkg.util.intstr.IntOrString': (value) =>
    (value.type === 1 ? String(value.strVal ?? '') : Number(value.intVal ?? 0)),
  '.k8s.io.apimachinery.pkg.runtime.RawExtension': (value) => parseEmbeddedJson(value.raw),
  [`${META}.FieldsV1`]: (value) => parseEmbeddedJson(value.Raw),
  '.k8s.io.api.authentication.v1.ExtraValue': (value) => stringItems(value.items),
  '.k8s.io.api.authorization.v1.ExtraValue': (value) => stringItems(value.items),
};

/** Go's metav1.Time marshals as RFC 3339 in UTC with whole seconds; MicroTime with 6 fraction digits. A zero time is null. */
function formatTime(value: Decoded, micro: boolean): string | undefined {
  const seconds = Number(value.seconds ?? 0);
  const nanos = Number(value.nanos ?? 0);
  if (seconds === 0 && nanos === 0) return undefined;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (!micro) return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

function parseEmbeddedJson(raw: unknown): JsonValue | undefined {
  if (!(raw instanceof Uint8Array) || raw.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8')) as JsonValue;
  } catch {
    throw badRequest('embedded object in protobuf body is not JSON');
  }
}

function stringItems(items: unknown): string[] {
  return Array.isArray(items) ? items.map(String) : [];
}

function isZeroScalar(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

function convertValue(field: protobuf.Field, value: unknown): JsonValue | undefined {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    const special = SPECIAL_TYPES[resolved.fullName];
    return special ? special(value as Decoded) : messageToJson(resolved, value as Decoded);
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value as JsonValue;
}

/** Converts a decoded message to the object Go's JSON encoder would produce for the same Go value. */
function messageToJson(type: protobuf.Type, decoded: Decoded): { [key: string]: JsonValue } {
  const result: { [key: string]: JsonValue } = {};
  for (const field of type.fieldsArray) {
    const value = decoded[field.name];
    if (value === undefined || value === null) continue;
    const qualifiedName = `${type.fullName.slice(1)}.${field.name}`;
    if (INLINE_FIELDS.has(qualifiedName) && field.resolvedType instanceof protobuf.Type) {
      Object.assign(result, messageToJson(field.resolvedType, value as Decoded));
    } else if (field.map) {
      const entries = Object.entries(value as Decoded);
      if (entries.length === 0) continue;
      const map: { [key: string]: JsonValue } = {};
      for (const [key, entryValue] of entries) {
        const converted = convertValue(field, entryValue);
        if (converted !== undefined) setOwnValue(map, key, converted);
      }
      result[field.name] = map;
    } else if (field.repeated) {
      const items = (value as unknown[]).map((item) => convertValue(field, item)).filter((item) => item !== undefined);
      if (items.length) result[field.name] = items as JsonValue[];
    } else {
      const converted = convertValue(field, value);
      if (converted === undefined) continue;
      if (!field.resolvedType && isZeroScalar(converted) && !ZERO_VALUE_FIELDS.has(qualifiedName)) continue;
      result[field.name] = converted;
    }
  }
  return result;
}
