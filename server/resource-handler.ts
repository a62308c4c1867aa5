// Resource requests (/api/v1/..., /apis/g/v/...): find the store, check the verb, decode the
// body, call the generic registry, encode the answer (JSON, YAML, Table) or stream a watch.

import type { Request, Response } from 'express';
import { stringify as toYaml } from 'yaml';
import { StatusError, badRequest, methodNotAllowed, pathNotFound, requestEntityTooLarge } from '../api/errors.ts';
import { isPlainObject, type KubeList, type KubeObject } from '../api/object.ts';
import type { RequestContext, Verb } from '../api/resource.ts';
import type { ApiRegistry } from '../api/registry/registry.ts';
import type { GenericStore, PatchContentType, Subresource, WriteOptions } from '../api/registry/store.ts';
import { listObjects, parseResourceVersion, tooLargeResourceVersion, type ListQuery } from '../api/registry/list.ts';
import { startWatch, type WatchQuery } from '../api/registry/watch.ts';
import { parseFieldValidation } from '../api/registry/schema-check.ts';
import type { UserInfo } from '../auth/user.ts';
import {
  CUSTOM_OBJECT_BODY_FORMATS, CUSTOM_PATCH_BODY_FORMATS, OBJECT_BODY_FORMATS, PATCH_BODY_FORMATS, decodeRequestBody, negotiateReply, parseRequestContentType,
  type ReplyFormat, type RequestBodyFormat,
} from './negotiation.ts';
import type { ResourceRequestInfo } from './request-info.ts';
import { objectJson } from './serialize.ts';
import { sendListReply, type ListReplyBody } from './list-reply.ts';
import { noteReplyMetadata } from './reply-metadata.ts';
import { parseIncludeObject, partialObjectMetadata, tableRow, toTable } from './table.ts';
import { serveWatch } from './watch-stream.ts';
import { canEncodeProtobuf, encodeListPieces, encodeObject, encodePartialObjectMetadata, encodePartialObjectMetadataListPieces, encodeStatus } from './protobuf/encode.ts';
import { protobufWatchEncoder, sendProtobuf } from './protobuf-reply.ts';
import { deleteCollection, parseDeleteOptions } from './delete-options.ts';
import type { SubresourceHandlers } from './subresources.ts';
import { validatePatchOptions, validateWriteOptions } from './write-options.ts';
import {
  decodeCreateOptions, decodeGetOptions, decodeListOptions, decodePatchOptions, decodeTableOptions,
  decodeUpdateOptions, type CreateOptions, type ListOptions, type PatchOptions, type RawQuery,
} from '../api/options/index.ts';

export interface ResourceHandlerOptions {
  maxRequestBodyBytes: number;
  bookmarkIntervalMs: number;
  /** Watches without timeoutSeconds end after a random time in [min, 2*min), as kube-apiserver's MinRequestTimeout. */
  minRequestTimeoutSeconds: number;
  watchMaxBufferedBytes: number;
}

export interface HandlerContext {
  registry: ApiRegistry;
  options: ResourceHandlerOptions;
  subresources: SubresourceHandlers;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

const PATCH_CONTENT_TYPES: Record<string, PatchContentType> = {
  'json-patch': 'application/json-patch+json',
  'merge-patch': 'application/merge-patch+json',
  'strategic-merge-patch': 'application/strategic-merge-patch+json',
  'apply-patch': 'application/apply-patch+yaml',
};

export async function handleResourceRequest(
  req: Request, res: Response, info: ResourceRequestInfo, user: UserInfo, context: HandlerContext,
): Promise<void> {
  const store = context.registry.lookup(info.apiGroup, info.apiVersion, info.resource);
  if (!store) throw pathNotFound();
  const strategy = store.strategy;
  const query = requestQuery(req);
  const ctx: RequestContext = { user, namespace: strategy.namespaced ? info.namespace : '', now: new Date(), auditAnnotations: {} };
  // Read by the audit filter when the response ends (admission adds to it while the request runs).
  res.locals.auditAnnotations = ctx.auditAnnotations;
  // As the handlers upstream (NegotiateOutputMediaType first): a write whose reply cannot be
  // encoded as the client accepts is a 406 before anything changes, not after.
  if (WRITE_VERBS.has(info.verb)) reply(req, store, info.verb === 'deletecollection' ? 'list' : 'object');

  // approval is the one status-like subresource besides status (certificatesigningrequests/approval).
  const statusLike = info.subresource === 'status' || (info.subresource === 'approval' && strategy.statusLikeSubresources?.approval !== undefined);
  if (info.subresource && !statusLike) {
    const handler = context.subresources.find(strategy.group, strategy.resource, info.subresource);
    if (!handler) throw pathNotFound();
    if (!handler.verbs.includes(info.verb)) throw methodNotAllowed();
    await handler.handle({ req, res, info, ctx, store, query, body: () => readBody(req, context.options.maxRequestBodyBytes) });
    return;
  }
  if (info.subresource === 'status' && !strategy.hasStatus) throw pathNotFound();
  if (strategy.namespaced && !info.namespace && info.name) throw pathNotFound();
  if (!strategy.namespaced && info.namespace) throw pathNotFound();
  const subresource: Subresource = info.subresource === 'status' ? 'status' : statusLike ? 'approval' : '';
  const custom = strategy.acceptsStrategicMergePatch === false;
  const objectFormats = custom ? CUSTOM_OBJECT_BODY_FORMATS : OBJECT_BODY_FORMATS;
  const allowed = statusLike ? ['get', 'update', 'patch'] : strategy.verbs;
  // The routes kube-apiserver installs: an item takes GET/PUT/PATCH/DELETE, a collection GET/POST/
  // DELETE, an all-namespaces collection only GET; any other method on a served path is a 405.
  const routed: string[] = info.name
    ? ['get', 'watch', 'update', 'patch', 'delete']
    : strategy.namespaced && !info.namespace ? ['list', 'watch'] : ['list', 'watch', 'create', 'deletecollection'];
  if (!routed.includes(info.verb) || !allowed.includes(info.verb as Verb)) throw methodNotAllowed();

  switch (info.verb) {
    case 'get': {
      const options = decodeGetOptions(query);
      await checkGetResourceVersion(store, options.resourceVersion);
      const object = await store.get(ctx.namespace, info.name);
      sendObject(req, res, store, object, 200, 'object');
      return;
    }
    case 'list': {
      const list = await listObjects(store, ctx.namespace, listQuery(decodeListOptions(query)));
      if (strategy.convert && list.items.some((item) => item.apiVersion !== store.apiVersion)) list.items = await strategy.convert(list.items);
      await sendList(req, res, store, list);
      return;
    }
    case 'watch':
      await serveResourceWatch(req, res, store, ctx, info, query, context.options);
      return;
    case 'create': {
      const body = await decodeObjectBody(req, context.options.maxRequestBodyBytes, objectFormats);
      const options = decodeCreateOptions(query);
      const result = await store.create(ctx, body, writeOptions(options, validateWriteOptions(options, 'CreateOptions'), req));
      sendWarnings(res, result.warnings);
      sendObject(req, res, store, result.object, 201, 'object');
      return;
    }
    case 'update': {
      const body = await decodeObjectBody(req, context.options.maxRequestBodyBytes, objectFormats);
      const options = decodeUpdateOptions(query);
      const result = await store.update(ctx, info.name, body, subresource, writeOptions(options, validateWriteOptions(options, 'UpdateOptions'), req));
      sendWarnings(res, result.warnings);
      sendObject(req, res, store, result.object, result.created ? 201 : 200, 'object');
      return;
    }
    case 'patch': {
      const format = parseRequestContentType(req.headers['content-type'], custom ? CUSTOM_PATCH_BODY_FORMATS : PATCH_BODY_FORMATS);
      const options: PatchOptions = decodePatchOptions(query);
      const dryRun = validatePatchOptions(options, format === 'apply-patch');
      const patch = decodeRequestBody(await readBody(req, context.options.maxRequestBodyBytes), format);
      const result = await store.patch(ctx, info.name, PATCH_CONTENT_TYPES[format], patch, subresource, { ...writeOptions(options, dryRun, req), force: options.force ?? false });
      sendWarnings(res, result.warnings);
      sendObject(req, res, store, result.object, result.created ? 201 : 200, 'object');
      return;
    }
    case 'delete': {
      const raw = await readBody(req, context.options.maxRequestBodyBytes);
      const options = parseDeleteOptions(raw, query);
      const result = await store.delete(ctx, info.name, options);
      if (result.deletedImmediately && !strategy.returnDeletedObject) {
        await sendDeletedStatus(req, res, store, result.object);
        return;
      }
      sendObject(req, res, store, result.object, 200, 'object');
      return;
    }
    case 'deletecollection': {
      const raw = await readBody(req, context.options.maxRequestBodyBytes);
      const options = parseDeleteOptions(raw, query);
      const list = await deleteCollection(store, ctx, listQuery(decodeListOptions(query)), options);
      await sendList(req, res, store, list);
      return;
    }
    default:
      throw methodNotAllowed();
  }
}

function listQuery(options: ListOptions): ListQuery {
  return {
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
    limit: options.limit,
    continue: options.continue || undefined,
    resourceVersion: options.resourceVersion,
    resourceVersionMatch: options.resourceVersionMatch,
    sendInitialEvents: options.sendInitialEvents,
  };
}

/**
 * A GET with a resourceVersion is served from the watch cache when it is at least that fresh:
 * the version must parse, and a version this server has not reached is a 504 (as the cacher
 * answers once its wait for it ends).
 */
async function checkGetResourceVersion(store: GenericStore, resourceVersion: string | undefined): Promise<void> {
  const requested = parseResourceVersion(resourceVersion);
  if (requested === undefined || requested === 0) return;
  const current = await store.storage.currentRevision();
  if (requested > current) throw tooLargeResourceVersion(requested, current);
}

function writeOptions(options: CreateOptions, dryRun: boolean, req: Request): WriteOptions {
  let fieldManager = options.fieldManager;
  if (fieldManager !== undefined && fieldManager.length > 128) {
    throw badRequest(`fieldManager: Too long: may not be longer than 128`);
  }
  if (fieldManager === undefined) fieldManager = managerFromUserAgent(req.headers['user-agent']);
  return { dryRun, fieldManager, fieldValidation: parseFieldValidation(options.fieldValidation) };
}

/** kube-apiserver names an unnamed manager after the client: the User-Agent up to the first '/'. */
function managerFromUserAgent(userAgent: string | undefined): string {
  if (!userAgent) return 'unknown';
  const name = userAgent.split('/')[0];
  return name.length > 128 ? name.slice(0, 128) : name;
}

/** How long the rest of an over-limit body is read and discarded while the 413 goes out. */
const DISCARD_BODY_MS = 5_000;

/**
 * After a body went over the limit (a chunked upload declares no length): the rest is read and
 * thrown away, not buffered, so the client receives the 413 Status instead of a connection reset
 * (destroying the socket while the client still sends makes the kernel answer with RST, as happened
 * to chunked bodies over 3 MiB); the connection closes after the reply, and a client that keeps
 * sending is cut off after DISCARD_BODY_MS, as Go's server stops reading after a while too.
 */
function refuseRestOfBody(req: Request): void {
  req.res?.setHeader('Connection', 'close');
  req.on('data', () => undefined);
  req.on('error', () => undefined);
  const timer = setTimeout(() => req.destroy(), DISCARD_BODY_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

/**
 * The request body, at most `limit` bytes (413 beyond). Read with 'data'/'end' listeners rather
 * than `for await`: the async iterator costs a promise and a microtask per chunk on every write.
 * Going over the limit mid-body answers 413 and discards the rest (refuseRestOfBody).
 */
export function readBody(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(requestEntityTooLarge(limit));
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        refuseRestOfBody(req);
        reject(requestEntityTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      req.receivedBody = body;
      resolve(body);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the request was closed before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

async function decodeObjectBody(req: Request, limit: number, formats: readonly RequestBodyFormat[]): Promise<KubeObject> {
  const format: RequestBodyFormat = parseRequestContentType(req.headers['content-type'], formats);
  const raw = await readBody(req, limit);
  if (raw.length === 0) throw badRequest('the body of the request was empty');
  const body = decodeRequestBody(raw, format);
  if (!isPlainObject(body)) throw badRequest('the body of the request must be a JSON object');
  return body as KubeObject;
}

/** Store.finalizeDelete without ReturnDeletedObject: a Success Status naming what went (Kind holds the resource). */
async function sendDeletedStatus(req: Request, res: Response, store: GenericStore, object: KubeObject): Promise<void> {
  const details: Record<string, string> = { name: object.metadata.name ?? '' };
  if (store.strategy.group) details.group = store.strategy.group;
  details.kind = store.strategy.resource;
  if (object.metadata.uid) details.uid = object.metadata.uid;
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
  const format = reply(req, store, 'object');
  if (format.encoding === 'protobuf') {
    await sendProtobuf(res, 200, format.contentType, [encodeStatus(status)]);
    return;
  }
  res.status(200).setHeader('Content-Type', 'application/json');
  res.send(Buffer.from(JSON.stringify(status)));
}

function sendWarnings(res: Response, warnings: string[]): void {
  if (warnings.length === 0) return;
  res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
}

/** The query string the security filter parsed (parsed here for requests that did not pass it, e.g. in tests). */
function requestQuery(req: Request): RawQuery {
  return req.requestQuery ?? new URL(req.originalUrl, 'http://localhost').searchParams;
}

function reply(req: Request, store: GenericStore, target: 'object' | 'list' | 'watch'): ReplyFormat {
  const protobuf = canEncodeProtobuf(store.apiVersion, store.strategy.kind);
  return negotiateReply(req.headers.accept, { target, tableAllowed: true, protobuf });
}

function sendText(req: Request, res: Response, format: ReplyFormat, status: number, json: string): void {
  res.status(status);
  res.setHeader('Content-Type', format.contentType);
  const text = format.encoding === 'yaml' ? toYaml(JSON.parse(json)) : json;
  if (req.headers['if-none-match'] === undefined && req.headers['if-modified-since'] === undefined) {
    // What express's send does for this reply, without its extra copy of the body into a Buffer:
    // with ETags off, only conditional request headers could change its answer (a 304).
    res.setHeader('Content-Length', String(Buffer.byteLength(text)));
    res.end(text);
    return;
  }
  // Buffers, so express leaves the media type exactly as negotiated (kube-apiserver sends
  // `application/json;as=Table;v=v1;g=meta.k8s.io`, no spaces and no charset).
  res.send(Buffer.from(text));
}

/**
 * Custom resources are defaulted on read (defaults added to the schema later show up).
 * A custom resource written through another served version carries that version's apiVersion;
 * with conversion strategy None, reading it through this version only rewrites apiVersion.
 * Built-in objects always carry the store's apiVersion, so this is one string comparison for them.
 */
function inServedVersion(store: GenericStore, stored: KubeObject): KubeObject {
  const object = store.strategy.defaultOnRead && stored.kind === store.strategy.kind ? store.strategy.defaultOnRead(stored) : stored;
  return object.apiVersion === store.apiVersion || object.kind !== store.strategy.kind ? object : { ...object, apiVersion: store.apiVersion };
}

export function sendObject(req: Request, res: Response, store: GenericStore, stored: KubeObject, status: number, target: 'object'): void {
  const object = inServedVersion(store, stored);
  // For the request journal (server/ui/request-journal.ts): the name, uid and resourceVersion a write stored.
  noteReplyMetadata(res, object.metadata);
  const format = reply(req, store, target);
  if (format.encoding === 'protobuf') {
    const body = format.shape === 'PartialObjectMetadata' ? encodePartialObjectMetadata(object) : encodeObject(object, store.apiVersion);
    void sendProtobuf(res, status, format.contentType, [body]);
  } else if (format.shape === 'Table') {
    const include = parseIncludeObject(decodeTableOptions(requestQuery(req)).includeObject);
    const table = toTable(store.strategy, [object], { resourceVersion: object.metadata.resourceVersion }, include, new Date());
    sendText(req, res, format, status, JSON.stringify(table));
  } else if (format.shape === 'PartialObjectMetadata') {
    sendText(req, res, format, status, JSON.stringify(partialObjectMetadata(object)));
  } else {
    sendText(req, res, format, status, objectJson(object));
  }
}

async function sendList(req: Request, res: Response, store: GenericStore, list: KubeList): Promise<void> {
  const format = reply(req, store, 'list');
  const items = list.items;
  if (format.encoding === 'protobuf') {
    const metadata = list.metadata as Parameters<typeof encodeListPieces>[3];
    const pieces = format.shape === 'PartialObjectMetadataList'
      ? encodePartialObjectMetadataListPieces(metadata, items)
      : encodeListPieces(list.apiVersion, list.kind, store.strategy.kind, metadata, items);
    await sendProtobuf(res, 200, format.contentType, pieces);
    return;
  }
  let body: ListReplyBody;
  if (format.shape === 'Table') {
    const include = parseIncludeObject(decodeTableOptions(requestQuery(req)).includeObject);
    const now = new Date();
    const rows = store.strategy.table.order ? store.strategy.table.order(items) : items;
    body = {
      head: { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: list.metadata, columnDefinitions: store.strategy.table.columns },
      arrayField: 'rows',
      length: rows.length,
      elementJson: (i) => JSON.stringify(tableRow(store.strategy, rows[i], include, now)),
    };
  } else if (format.shape === 'PartialObjectMetadataList') {
    body = {
      head: { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: list.metadata },
      arrayField: 'items',
      length: items.length,
      elementJson: (i) => JSON.stringify(partialObjectMetadata(items[i])),
    };
  } else {
    body = {
      head: { kind: list.kind, apiVersion: list.apiVersion, metadata: list.metadata },
      arrayField: 'items',
      length: items.length,
      elementJson: (i) => objectJson(inServedVersion(store, items[i])),
    };
  }
  await sendListReply(res, format.contentType, format.encoding, body);
}

async function serveResourceWatch(
  req: Request, res: Response, store: GenericStore, ctx: RequestContext, info: ResourceRequestInfo,
  query: RawQuery, options: ResourceHandlerOptions,
): Promise<void> {
  const format = reply(req, store, 'watch');
  if (format.encoding === 'yaml') throw new StatusError(406, 'NotAcceptable', 'only the following media types are accepted: application/json');
  const listOptions = decodeListOptions(query);
  const watchQuery: WatchQuery = {
    ...listQuery(listOptions),
    allowWatchBookmarks: listOptions.allowWatchBookmarks,
  };
  if (info.name) {
    // GET .../pods/NAME?watch=true and /watch/.../pods/NAME watch one object.
    const byName = `metadata.name=${info.name}`;
    watchQuery.fieldSelector = watchQuery.fieldSelector ? `${watchQuery.fieldSelector},${byName}` : byName;
  }
  // The watch handler's timeout: timeoutSeconds when set, else a random time in [min, 2*min).
  const timeoutSeconds = listOptions.timeoutSeconds !== undefined && listOptions.timeoutSeconds > 0
    ? listOptions.timeoutSeconds
    : options.minRequestTimeoutSeconds * (1 + Math.random());
  const include = parseIncludeObject(decodeTableOptions(query).includeObject);
  let firstTableEvent = true;
  const strategy = store.strategy;
  const encoder = {
    object: (object: KubeObject): string => {
      if (format.shape === 'Table') {
        const table = toTable(strategy, [object], { resourceVersion: object.metadata.resourceVersion }, include, new Date(), firstTableEvent);
        firstTableEvent = false;
        return JSON.stringify(table);
      }
      if (format.shape === 'PartialObjectMetadata') return JSON.stringify(partialObjectMetadata(object));
      return objectJson(inServedVersion(store, object));
    },
    bookmark: (resourceVersion: string, initialEventsEnd: boolean): string => JSON.stringify({
      kind: strategy.kind,
      apiVersion: store.apiVersion,
      metadata: initialEventsEnd
        ? { resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } }
        : { resourceVersion },
    }),
  };
  const chosen = format.encoding === 'protobuf'
    ? protobufWatchEncoder(store.apiVersion, strategy.kind, format.shape === 'PartialObjectMetadata')
    : encoder;
  await serveWatch(req, res, chosen, { timeoutSeconds, maxBufferedBytes: options.watchMaxBufferedBytes, contentType: format.contentType },
    (sink) => startWatch(store, ctx.namespace, watchQuery, sink, { bookmarkIntervalMs: options.bookmarkIntervalMs }));
}
