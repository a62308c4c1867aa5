// Content negotiation as k8s.io/apiserver/pkg/endpoints/handlers/negotiation does it: the Accept header
// picks the reply's encoding and "shape" (plain object, meta.k8s.io Table, PartialObjectMetadata), and the
// request Content-Type picks the body decoder. Error wording follows negotiation/errors.go.

import { badRequest, notAcceptable, StatusError, unsupportedMediaType } from '../api/errors.ts';
import { isPlainObject } from '../api/object.ts';
import { noteDuplicateFields } from '../api/registry/schema-check.ts';
import { MAX_JSON_DEPTH, PROCESSED_JSON_DEPTH, scanJsonBody, truncateDeepValues } from './json-body-scan.ts';
import { decodeYamlBody, YamlBodyError } from './yaml-body.ts';
import { decodeProtobufBody } from './protobuf/decode.ts';

/** One entry of an Accept (or the single value of a Content-Type) header. */
export interface MediaRange {
  type: string;
  subtype: string;
  /** Parameters other than q, keys lower-cased, values unquoted. */
  params: Record<string, string>;
  q: number;
}

export const JSON_MEDIA_TYPE = 'application/json';
export const YAML_MEDIA_TYPE = 'application/yaml';
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** The media types we can encode replies in, in the order upstream lists them in 406 messages. */
const REPLY_MEDIA_TYPES = [JSON_MEDIA_TYPE, YAML_MEDIA_TYPE];
const REPLY_MEDIA_TYPES_WITH_PROTOBUF = [JSON_MEDIA_TYPE, YAML_MEDIA_TYPE, PROTOBUF_MEDIA_TYPE];

function parseMediaRange(text: string): MediaRange | undefined {
  const [typePart, ...paramParts] = text.split(';');
  const [type, subtype] = typePart.trim().toLowerCase().split('/');
  if (!type || !subtype) return undefined;
  const params: Record<string, string> = {};
  let q = 1;
  for (const part of paramParts) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (key === 'q') {
      const parsed = Number(value);
      q = Number.isFinite(parsed) ? parsed : 0;
    } else if (key) {
      params[key] = value;
    }
  }
  return { type, subtype, params, q };
}

/**
 * Accept entries ordered by preference: by q (highest first), keeping the client's order among equal q
 * (kubectl lists what it prefers first, all with q=1). Entries with q=0 are dropped.
 */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || !header.trim()) return [];
  return header.split(',')
    .map((entry) => parseMediaRange(entry))
    .filter((range): range is MediaRange => range !== undefined && range.q > 0)
    .map((range, index) => ({ range, index }))
    .sort((a, b) => b.range.q - a.range.q || a.index - b.index)
    .map(({ range }) => range);
}

export type ReplyEncoding = 'json' | 'yaml' | 'protobuf';

/** What the reply body is: the object itself or a meta.k8s.io/v1 transformation of it. */
export type ReplyShape = 'object' | 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList';

export interface ReplyFormat {
  encoding: ReplyEncoding;
  shape: ReplyShape;
  /** The Content-Type header to send, e.g. `application/json;as=Table;v=v1;g=meta.k8s.io`. */
  contentType: string;
}

export interface ReplyTarget {
  /**
   * What the endpoint returns: a single object, a list, or watch events (whose objects are single items).
   * Decides which PartialObjectMetadata kind may be asked for.
   */
  target: 'object' | 'list' | 'watch';
  /** Whether the endpoint can render Tables (resource endpoints can; Status-only endpoints cannot). */
  tableAllowed: boolean;
  /**
   * Whether the kind has a protobuf message (server/protobuf/kinds.ts). Without one, protobuf entries of
   * the Accept header are passed over, as upstream's negotiation does for kinds with no protobuf
   * serializer (custom resources): JSON when also accepted, else 406.
   */
  protobuf?: boolean;
}

const META_GROUP = 'meta.k8s.io';
const META_VERSIONS = new Set(['v1', 'v1beta1']);

function encodingFor(range: MediaRange, target: ReplyTarget): ReplyEncoding | undefined {
  if (range.type === '*' && range.subtype === '*') return 'json';
  if (range.type !== 'application') return undefined;
  if (range.subtype === '*' || range.subtype === 'json') return 'json';
  if (range.subtype === 'yaml') return 'yaml';
  if (range.subtype === 'vnd.kubernetes.protobuf' && target.protobuf) return 'protobuf';
  return undefined;
}

function shapeFor(range: MediaRange, target: ReplyTarget): ReplyShape | undefined {
  const as = range.params.as;
  if (as === undefined) return 'object';
  if (range.params.g !== META_GROUP || !META_VERSIONS.has(range.params.v ?? '')) return undefined;
  // meta.k8s.io Table is JSON/YAML only upstream (+protobuf=false): a protobuf Table entry is passed over.
  if (as === 'Table') return target.tableAllowed && range.subtype !== 'vnd.kubernetes.protobuf' ? 'Table' : undefined;
  const partialKind = target.target === 'list' ? 'PartialObjectMetadataList' : 'PartialObjectMetadata';
  return as === partialKind ? partialKind : undefined;
}

const BASE_MEDIA_TYPES: Record<ReplyEncoding, string> = { json: JSON_MEDIA_TYPE, yaml: YAML_MEDIA_TYPE, protobuf: PROTOBUF_MEDIA_TYPE };

function contentTypeFor(encoding: ReplyEncoding, shape: ReplyShape, target: ReplyTarget): string {
  const base = BASE_MEDIA_TYPES[encoding];
  const typed = shape === 'object' ? base : `${base};as=${shape};v=v1;g=${META_GROUP}`;
  // The streaming serializer's media type, which client-go reads to pick its frame reader.
  return encoding === 'protobuf' && target.target === 'watch' ? `${typed};stream=watch` : typed;
}

/**
 * Picks the reply format: the first acceptable Accept entry wins. Protobuf is acceptable for kinds with a
 * protobuf message (target.protobuf); for others, `application/vnd.kubernetes.protobuf, application/json`
 * gets JSON. No Accept header means JSON. Nothing acceptable is a 406, as upstream.
 */
export function negotiateReply(accept: string | undefined, target: ReplyTarget): ReplyFormat {
  // Clients send the same few Accept headers on every request: remember the answer per header.
  const key = `${target.target}|${target.tableAllowed ? 1 : 0}|${target.protobuf ? 1 : 0}|${accept ?? ''}`;
  let format = negotiatedReplies.get(key);
  if (format === undefined) {
    format = Object.freeze(negotiateReplyUncached(accept, target));
    if (negotiatedReplies.size >= MEMO_LIMIT) negotiatedReplies.clear();
    negotiatedReplies.set(key, format);
  }
  return format;
}

/** Bound on each memo below (cleared when reached: a client sending ever-new headers only costs re-parsing). */
const MEMO_LIMIT = 256;
const negotiatedReplies = new Map<string, ReplyFormat>();

function negotiateReplyUncached(accept: string | undefined, target: ReplyTarget): ReplyFormat {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return { encoding: 'json', shape: 'object', contentType: JSON_MEDIA_TYPE };
  for (const range of ranges) {
    const encoding = encodingFor(range, target);
    if (!encoding) continue;
    const shape = shapeFor(range, target);
    if (!shape) continue;
    return { encoding, shape, contentType: contentTypeFor(encoding, shape, target) };
  }
  throw notAcceptable((target.protobuf ? REPLY_MEDIA_TYPES_WITH_PROTOBUF : REPLY_MEDIA_TYPES).join(', '));
}

/**
 * Whether an error reply goes out as a protobuf Status: upstream's ErrorNegotiated encodes the Status with
 * the serializer the Accept header picks, and meta.v1.Status always has a protobuf message.
 */
export function errorWantsProtobuf(accept: string | undefined): boolean {
  if (!accept || !accept.includes('protobuf')) return false;
  try {
    return negotiateReply(accept, { target: 'object', tableAllowed: false, protobuf: true }).encoding === 'protobuf';
  } catch (err) {
    if (err instanceof StatusError) return false;
    throw err;
  }
}

/** Whether this Accept header asks for a meta.k8s.io Table (which we answer as meta.k8s.io/v1). */
export function wantsTable(accept: string | undefined): boolean {
  return replyShapeOrUndefined(accept, { target: 'list', tableAllowed: true }) === 'Table';
}

/** Whether this Accept header asks for PartialObjectMetadata (single/watch) or PartialObjectMetadataList (list). */
export function wantsPartialObjectMetadata(accept: string | undefined, target: ReplyTarget['target'] = 'object'): boolean {
  const shape = replyShapeOrUndefined(accept, { target, tableAllowed: true });
  return shape === 'PartialObjectMetadata' || shape === 'PartialObjectMetadataList';
}

function replyShapeOrUndefined(accept: string | undefined, target: ReplyTarget): ReplyShape | undefined {
  try {
    return negotiateReply(accept, target).shape;
  } catch (err) {
    if (err instanceof StatusError) return undefined;
    throw err;
  }
}

export type RequestBodyFormat =
  | 'json' | 'yaml' | 'protobuf' | 'json-patch' | 'merge-patch' | 'strategic-merge-patch' | 'apply-patch';

const BODY_MEDIA_TYPES: Record<RequestBodyFormat, string> = {
  json: JSON_MEDIA_TYPE,
  yaml: YAML_MEDIA_TYPE,
  protobuf: PROTOBUF_MEDIA_TYPE,
  'json-patch': 'application/json-patch+json',
  'merge-patch': 'application/merge-patch+json',
  'strategic-merge-patch': 'application/strategic-merge-patch+json',
  'apply-patch': 'application/apply-patch+yaml',
};

/** Body formats a create/update accepts (upstream's order in its 415 message). */
export const OBJECT_BODY_FORMATS: readonly RequestBodyFormat[] = ['json', 'yaml', 'protobuf'];
/** Body formats a custom resource's create/update accepts (no protobuf for custom resources). */
export const CUSTOM_OBJECT_BODY_FORMATS: readonly RequestBodyFormat[] = ['json', 'yaml'];
/** Body formats a custom resource's PATCH accepts: strategic merge needs Go types, so it is a 415. */
export const CUSTOM_PATCH_BODY_FORMATS: readonly RequestBodyFormat[] = ['json-patch', 'merge-patch', 'apply-patch'];
/** Body formats a PATCH accepts (upstream's order in its 415 message). */
export const PATCH_BODY_FORMATS: readonly RequestBodyFormat[] = ['json-patch', 'merge-patch', 'strategic-merge-patch', 'apply-patch'];

/**
 * Maps a request Content-Type to a body format among `allowed` (parameters such as charset are ignored),
 * or throws 415 listing the allowed media types. A missing Content-Type means JSON where JSON is allowed,
 * as NegotiateInputSerializer defaults to the first supported type.
 */
export function parseRequestContentType(header: string | undefined, allowed: readonly RequestBodyFormat[]): RequestBodyFormat {
  let formats = bodyFormatsByAllowed.get(allowed);
  if (!formats) {
    formats = new Map();
    bodyFormatsByAllowed.set(allowed, formats);
  }
  const key = header ?? '';
  let format = formats.get(key);
  if (format === undefined) {
    format = parseRequestContentTypeUncached(header, allowed);
    if (formats.size >= MEMO_LIMIT) formats.clear();
    formats.set(key, format);
  }
  return format;
}

/** Content-Type header → body format, per list of allowed formats (the callers pass constant lists). */
const bodyFormatsByAllowed = new WeakMap<readonly RequestBodyFormat[], Map<string, RequestBodyFormat>>();

function parseRequestContentTypeUncached(header: string | undefined, allowed: readonly RequestBodyFormat[]): RequestBodyFormat {
  const accepted = allowed.map((format) => BODY_MEDIA_TYPES[format]);
  if (!header || !header.trim()) {
    if (allowed.includes('json')) return 'json';
    throw unsupportedMediaType(accepted);
  }
  const range = parseMediaRange(header);
  const mediaType = range ? `${range.type}/${range.subtype}` : '';
  const format = allowed.find((candidate) => BODY_MEDIA_TYPES[candidate] === mediaType);
  if (!format) throw unsupportedMediaType(accepted);
  return format;
}

/**
 * Decodes a request body of the given format into a JSON value. Object formats (json, yaml, protobuf)
 * must give an object; json-patch gives an array; apply-patch bodies may be JSON or YAML (kubectl
 * sends JSON), which the YAML parser reads alike. The work is bounded before anything recursive
 * sees the value: JSON nesting beyond 10,000 levels is refused as encoding/json refuses it, YAML
 * goes through server/yaml-body.ts. Members given twice in a JSON object are remembered for
 * fieldValidation (noteDuplicateFields).
 */
export function decodeRequestBody(body: Buffer, format: RequestBodyFormat): unknown {
  if (format === 'protobuf') return decodeProtobufBody(body);
  const text = body.toString('utf8');
  let value: unknown;
  let duplicates: string[] = [];
  let duplicatesAfter: string[] = [];
  const yaml = format === 'yaml' || (format === 'apply-patch' && !/^\s*[{[]/.test(text));
  if (yaml) {
    try {
      value = decodeYamlBody(text);
    } catch (err) {
      if (!(err instanceof YamlBodyError)) throw err;
      throw badRequest(`error converting YAML to JSON: ${err.message}`);
    }
  } else {
    try {
      value = JSON.parse(text);
    } catch (err) {
      // An apply body that looked like JSON may still be YAML (a flow mapping): the YAML answer then.
      if (format === 'apply-patch') return decodeRequestBody(body, 'yaml');
      const detail = err instanceof Error ? err.message : String(err);
      throw badRequest(`the body of the request could not be decoded as JSON: ${detail}`);
    }
    const scan = scanJsonBody(text);
    if (scan.depth > MAX_JSON_DEPTH) throw badRequest(depthMessage(format));
    if (scan.depth > PROCESSED_JSON_DEPTH) truncateDeepValues(value);
    duplicates = scan.duplicateFields;
    duplicatesAfter = scan.duplicatesAfter;
  }
  if (format === 'json-patch') {
    if (!Array.isArray(value)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    return value;
  }
  if (!isPlainObject(value)) throw badRequest(`the body of the request must be a JSON object, got ${describe(value)}`);
  noteDuplicateFields(value, duplicates, duplicatesAfter);
  return value;
}

/** What kube-apiserver answers for JSON nested beyond encoding/json's 10,000 levels, per body kind. */
function depthMessage(format: RequestBodyFormat): string {
  switch (format) {
    // The serializer's first step reads apiVersion/kind (SimpleMetaFactory.Interpret).
    case 'json': return 'couldn\'t get version/kind; json parse error: exceeded max depth';
    // patch.go decodes the patch (strictly under Strict/Warn) before applying it.
    case 'json-patch': case 'merge-patch': return 'error decoding patch: exceeded max depth';
    default: return 'exceeded max depth';
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  return Array.isArray(value) ? 'an array' : typeof value;
}
