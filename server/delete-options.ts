// DeleteOptions from the query string and the request body (kubectl sends
// {"propagationPolicy":"Background"} or {"gracePeriodSeconds":0,...} as the DELETE body).

import { badRequest, invalid, invalidField } from '../api/errors.ts';
import { decodeDeleteOptionsQuery, type DeleteOptionsQuery, type RawQuery } from '../api/options/index.ts';
import { isPlainObject, type KubeList } from '../api/object.ts';
import type { RequestContext } from '../api/resource.ts';
import { listObjects, type ListQuery } from '../api/registry/list.ts';
import type { DeleteRequest, GenericStore } from '../api/registry/store.ts';
import { StatusError } from '../api/errors.ts';
import { decodeProtobufBody } from './protobuf/decode.ts';
import { parseDryRun } from './write-options.ts';

/**
 * The DeleteOptions of a DELETE, as the handler builds them: from the body when there is one,
 * from the query string only when the body is empty (kube-apiserver decodes one or the other).
 */
export function parseDeleteOptions(raw: Buffer, query: RawQuery): DeleteRequest {
  if (raw.length === 0) return deleteRequest(decodeDeleteOptionsQuery(query));
  let body: unknown;
  if (raw.subarray(0, 4).toString('latin1') === 'k8s\u0000') {
    body = decodeProtobufBody(raw);
  } else {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw badRequest(`the body of the request could not be decoded as DeleteOptions: ${(err as Error).message}`);
    }
  }
  if (!isPlainObject(body)) throw badRequest('the body of the request must be a DeleteOptions object');
  const options: DeleteOptionsQuery = { dryRun: [] };
  if (body.gracePeriodSeconds !== undefined && body.gracePeriodSeconds !== null) {
    if (typeof body.gracePeriodSeconds !== 'number' || !Number.isInteger(body.gracePeriodSeconds)) {
      throw badRequest('DeleteOptions.gracePeriodSeconds must be an integer');
    }
    options.gracePeriodSeconds = body.gracePeriodSeconds;
  }
  if (typeof body.propagationPolicy === 'string') options.propagationPolicy = body.propagationPolicy;
  if (typeof body.orphanDependents === 'boolean') options.orphanDependents = body.orphanDependents;
  if (Array.isArray(body.dryRun)) options.dryRun = body.dryRun.map(String);
  const request = deleteRequest(options);
  if (isPlainObject(body.preconditions)) {
    const { uid, resourceVersion } = body.preconditions;
    request.preconditions = {
      uid: typeof uid === 'string' && uid ? uid : undefined,
      resourceVersion: typeof resourceVersion === 'string' && resourceVersion ? resourceVersion : undefined,
    };
  }
  return request;
}

/** ValidateDeleteOptions, then the registry's view (orphanDependents=true is propagationPolicy Orphan). */
function deleteRequest(options: DeleteOptionsQuery): DeleteRequest {
  if (options.orphanDependents !== undefined && options.propagationPolicy !== undefined) {
    throw invalid('DeleteOptions', 'meta.k8s.io', '', [
      invalidField('propagationPolicy', options.propagationPolicy, 'orphanDependents and deletionPropagation cannot be both set'),
    ]);
  }
  const request: DeleteRequest = { dryRun: parseDryRun(options.dryRun, 'DeleteOptions') };
  if (options.gracePeriodSeconds !== undefined) request.gracePeriodSeconds = options.gracePeriodSeconds;
  if (options.propagationPolicy !== undefined) request.propagationPolicy = options.propagationPolicy;
  else if (options.orphanDependents === true) request.propagationPolicy = 'Orphan';
  return request;
}

/** DELETE on a collection: every object the selectors match, one by one (as registry.Store.DeleteCollection). */
export async function deleteCollection(store: GenericStore, ctx: RequestContext, query: ListQuery, options: DeleteRequest): Promise<KubeList> {
  const list = await listObjects(store, ctx.namespace, { ...query, limit: undefined, continue: undefined });
  const deleted = [];
  for (const item of list.items) {
    const itemCtx = { ...ctx, namespace: item.metadata.namespace ?? '' };
    try {
      deleted.push((await store.delete(itemCtx, item.metadata.name ?? '', { ...options, preconditions: undefined })).object);
    } catch (err) {
      // Already gone: someone else deleted it meanwhile.
      if (!(err instanceof StatusError && err.code === 404)) throw err;
    }
  }
  return { ...list, items: deleted };
}
