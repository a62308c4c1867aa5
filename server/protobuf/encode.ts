// Encodes replies as Kubernetes protobuf (Accept: application/vnd.kubernetes.protobuf): the reverse of
// decode.ts. A JSON object becomes its kind's message from the vendored upstream generated.proto files,
// wrapped as k8s.io/apimachinery/pkg/runtime/serializer/protobuf does: the 4 bytes "k8s\0", then a
// runtime.Unknown{typeMeta, raw = the message, contentEncoding "", contentType ""}.
// Watch frames follow the streaming serializer: a 4-byte big-endian length, then a raw (unwrapped)
// meta.v1.WatchEvent whose object.raw is the object's own wrapped encoding.

import protobuf from 'protobufjs';
import type { JsonValue, KubeObject } from '../../api/object.ts';
import { kubernetesProtoRoot, PROTOBUF_MAGIC } from './decode.ts';
import { INLINE_FIELDS, listMessageNameForKind, replyMessageNameForKind } from './kinds.ts';

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

type JsonObject = { [key: string]: JsonValue };
/** A plain object protobufjs's generated encoders accept for a message. */
type Message = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * RFC 3339 text → Time/MicroTime {seconds, nanos}. Undefined for text that is not a time (Go would refuse to
 * decode such an object; we leave the field out rather than fail the whole reply).
 */
function parseTime(value: JsonValue): Message | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i.exec(value);
  if (!match) return undefined;
  const millis = Date.parse(`${match[1]}${match[3].toUpperCase()}`);
  if (Number.isNaN(millis)) return undefined;
  const message: Message = { seconds: Math.floor(millis / 1000) };
  const nanos = match[2] ? Number(match[2].padEnd(9, '0')) : 0;
  if (nanos) message.nanos = nanos;
  return message;
}

function jsonBytes(value: JsonValue): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Messages whose Go types marshal to JSON as something other than an object (the mirror of decode.ts). */
const SPECIAL_TYPES: Record<string, (value: JsonValue) => Message | undefined> = {
  [`.${META}.Time`]: parseTime,
  [`.${META}.MicroTime`]: parseTime,
  '.k8s.io.apimachinery.pkg.api.resource.Quantity': (value) => ({ string: typeof value === 'number' ? String(value) : String(value ?? '') }),
  '.k8s.io.apimachinery.pkg.util.intstr.IntOrString': (value) =>
    (typeof value === 'number' ? { type: 0, intVal: value } : { type: 1, strVal: String(value ?? '') }),
  '.k8s.io.apimachinery.pkg.runtime.RawExtension': (value) => ({ raw: jsonBytes(value) }),
  [`.${META}.FieldsV1`]: (value) => ({ Raw: jsonBytes(value) }),
  '.k8s.io.api.authentication.v1.ExtraValue': (value) => ({ items: Array.isArray(value) ? value.map(String) : [] }),
  '.k8s.io.api.authorization.v1.ExtraValue': (value) => ({ items: Array.isArray(value) ? value.map(String) : [] }),
};

function scalar(field: protobuf.Field, value: JsonValue): unknown {
  switch (field.type) {
    case 'bytes': return typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
    case 'string': return typeof value === 'string' ? value : undefined;
    case 'bool': return typeof value === 'boolean' ? value : undefined;
    default: return typeof value === 'number' ? value : undefined;
  }
}

function fieldValue(field: protobuf.Field, value: JsonValue): unknown {
  if (value === null) return undefined;
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    const special = SPECIAL_TYPES[resolved.fullName];
    if (special) return special(value);
    return isObject(value) ? jsonToMessage(resolved, value) : undefined;
  }
  return scalar(field, value);
}

/** The message protobufjs encodes for a JSON object of `type` (fields JSON does not know are left out). */
export function jsonToMessage(type: protobuf.Type, json: JsonObject): Message {
  const message: Message = {};
  const typeName = type.fullName.slice(1);
  for (const field of type.fieldsArray) {
    if (field.resolvedType instanceof protobuf.Type && INLINE_FIELDS.has(`${typeName}.${field.name}`)) {
      // `json:",inline"`: the members sit in the parent JSON object, protobuf nests them.
      const inline = jsonToMessage(field.resolvedType, json);
      if (Object.keys(inline).length) message[field.name] = inline;
      continue;
    }
    const value = json[field.name];
    if (value === undefined || value === null) continue;
    if (field.map) {
      if (!isObject(value)) continue;
      const map: Record<string, unknown> = {};
      for (const [key, entry] of Object.entries(value)) {
        const converted = fieldValue(field, entry);
        if (converted !== undefined) map[key] = converted;
      }
      message[field.name] = map;
    } else if (field.repeated) {
      if (!Array.isArray(value)) continue;
      message[field.name] = value.map((item) => fieldValue(field, item)).filter((item) => item !== undefined);
    } else {
      const converted = fieldValue(field, value);
      if (converted !== undefined) message[field.name] = converted;
    }
  }
  return message;
}

/** The bytes of `json` as message `messageName` (no prefix, no Unknown wrapper). */
export function encodeMessage(messageName: string, json: JsonObject): Uint8Array {
  const type = kubernetesProtoRoot().lookupType(messageName);
  return type.encode(jsonToMessage(type, json)).finish();
}

/** The 4-byte prefix and the runtime.Unknown fields that precede `raw` (typeMeta, then raw's tag and length). */
function unknownHead(apiVersion: string, kind: string, rawLength: number): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.uint32(10).fork().uint32(10).string(apiVersion).uint32(18).string(kind).ldelim();
  writer.uint32(18).uint32(rawLength);
  return writer.finish();
}

/** contentEncoding = "" and contentType = "", which gogo writes although empty. */
const UNKNOWN_TAIL = Buffer.from([0x1a, 0x00, 0x22, 0x00]);

/** `k8s\0` + runtime.Unknown wrapping `raw` (given in pieces, so a large list is never copied into one buffer). */
export function wrapUnknown(apiVersion: string, kind: string, raw: readonly Uint8Array[]): Buffer[] {
  const rawLength = raw.reduce((sum, piece) => sum + piece.length, 0);
  const pieces: Buffer[] = new Array<Buffer>(raw.length + 3);
  pieces[0] = PROTOBUF_MAGIC;
  pieces[1] = Buffer.from(unknownHead(apiVersion, kind, rawLength));
  for (let i = 0; i < raw.length; i++) {
    const piece = raw[i];
    pieces[i + 2] = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.length);
  }
  pieces[raw.length + 2] = UNKNOWN_TAIL;
  return pieces;
}

/** Whether replies for this apiVersion/kind can be protobuf (the kind has a message in the vendored files). */
export function canEncodeProtobuf(apiVersion: string, kind: string): boolean {
  return replyMessageNameForKind(apiVersion, kind) !== undefined;
}

// Objects from storage are shared and never mutated (as serialize.ts relies on for their JSON), so
// each one's message bytes are computed once and reused by every GET, LIST and watcher. They are kept
// already framed as a list item (field 2: tag, length, message), so a LIST is the cached buffers one
// after the other; a single object is the same buffer past the frame.
interface EncodedObject {
  /** 0x12, the message length as a varint, then the message. */
  listItem: Buffer;
  /** Where the message starts in listItem. */
  messageOffset: number;
}

const encodedObjects = new WeakMap<object, EncodedObject>();

function encodedObject(object: KubeObject, apiVersion: string, kind: string): EncodedObject {
  let encoded = encodedObjects.get(object);
  if (!encoded) {
    const messageName = replyMessageNameForKind(apiVersion, kind);
    if (!messageName) throw new Error(`no protobuf message for ${apiVersion} ${kind}`);
    const type = kubernetesProtoRoot().lookupType(messageName);
    const writer = protobuf.Writer.create();
    writer.uint32(18).fork();
    const headLength = writer.len;
    type.encode(jsonToMessage(type, object as unknown as JsonObject), writer);
    const messageLength = writer.len - headLength;
    writer.ldelim();
    const bytes = writer.finish();
    const listItem = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    encoded = { listItem, messageOffset: listItem.length - messageLength };
    encodedObjects.set(object, encoded);
  }
  return encoded;
}

/** The object's own message bytes (what Unknown.raw holds), cached per stored object. */
export function objectMessageBytes(object: KubeObject, apiVersion: string, kind: string): Uint8Array {
  const encoded = encodedObject(object, apiVersion, kind);
  return encoded.listItem.subarray(encoded.messageOffset);
}

/** A single object as the protobuf serializer writes it: `k8s\0` + Unknown. */
export function encodeObject(object: KubeObject, fallbackApiVersion = ''): Buffer {
  const apiVersion = object.apiVersion ?? fallbackApiVersion;
  const kind = object.kind ?? '';
  return Buffer.concat(wrapUnknown(apiVersion, kind, [objectMessageBytes(object, apiVersion, kind)]));
}

/**
 * A list reply in pieces: `k8s\0` + Unknown{typeMeta <kind>List, raw = <kind>List{metadata, items}}. Each item
 * is the cached bytes of that object, framed as field 2 of the list message.
 */
export function encodeListPieces(
  apiVersion: string, listKind: string, itemKind: string, metadata: JsonObject, items: readonly KubeObject[],
): Buffer[] {
  const listMessage = listMessageNameForKind(apiVersion, itemKind);
  if (!listMessage) throw new Error(`no protobuf list message for ${apiVersion} ${itemKind}`);
  const pieces: Uint8Array[] = new Array<Uint8Array>(items.length + 1);
  const head = protobuf.Writer.create();
  head.uint32(10).bytes(encodeMessage(`${META}.ListMeta`, metadata));
  pieces[0] = head.finish();
  for (let i = 0; i < items.length; i++) pieces[i + 1] = encodedObject(items[i], apiVersion, itemKind).listItem;
  return wrapUnknown(apiVersion, listKind, pieces);
}

/** PartialObjectMetadata(List) replies: only metadata, as meta.k8s.io/v1 messages. */
export function encodePartialObjectMetadata(object: KubeObject): Buffer {
  const raw = encodeMessage(`${META}.PartialObjectMetadata`, { metadata: object.metadata as unknown as JsonObject });
  return Buffer.concat(wrapUnknown('meta.k8s.io/v1', 'PartialObjectMetadata', [raw]));
}

export function encodePartialObjectMetadataListPieces(metadata: JsonObject, items: readonly KubeObject[]): Buffer[] {
  const pieces: Uint8Array[] = [];
  const head = protobuf.Writer.create();
  head.uint32(10).bytes(encodeMessage(`${META}.ListMeta`, metadata));
  pieces.push(head.finish());
  for (const item of items) {
    const bytes = encodeMessage(`${META}.PartialObjectMetadata`, { metadata: item.metadata as unknown as JsonObject });
    const tag = protobuf.Writer.create();
    tag.uint32(18).uint32(bytes.length);
    pieces.push(tag.finish(), bytes);
  }
  return wrapUnknown('meta.k8s.io/v1', 'PartialObjectMetadataList', pieces);
}

/** A meta.v1.Status (errors, and the Success Status of a delete) as the protobuf serializer writes it. */
export function encodeStatus(status: object): Buffer {
  return Buffer.concat(wrapUnknown('v1', 'Status', [encodeMessage(`${META}.Status`, status as JsonObject)]));
}

/** One `;stream=watch` frame: big-endian length, then the raw WatchEvent{type, object: {raw: wrapped object}}. */
export function watchFrame(type: string, wrappedObject: Uint8Array): Buffer {
  const writer = protobuf.Writer.create();
  writer.uint32(10).string(type);
  writer.uint32(18).fork().uint32(10).bytes(wrappedObject).ldelim();
  const event = writer.finish();
  const frame = Buffer.allocUnsafe(4 + event.length);
  frame.writeUInt32BE(event.length, 0);
  frame.set(event, 4);
  return frame;
}
