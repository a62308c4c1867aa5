// DeleteOptions from the query string and the request body (kubectl sends
// {"propagationPolicy":"Background"} or {"gracePeriodSeconds":0,...} as the DELETE body).

import { badRequest } from '../api/errors.ts';
import { isPlainObject, type KubeList } from '../api/object.ts';
import type { RequestContext } from '../api/resource.ts';
import { listObjects, type ListQuery } from '../api/registry/list.ts';
import type { DeleteRequest, GenericStore } from '../api/registry/store.ts';
import { StatusError } from '../api/errors.ts';
import { decodeProtobufBody } from './protobuf/decode.ts';
import { parseDryRun } from './write-options.ts';

export function parseDeleteOptions(raw: Buffer, query: URLSearchParams): DeleteRequest {
  const options: DeleteRequest = { dryRun: false };
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null && grace !== '') options.gracePeriodSeconds = parseGrace(grace);
  const propagation = query.get('propagationPolicy');
  if (propagation) options.propagationPolicy = propagation;
  options.dryRun = parseDryRun(query.getAll('dryRun'), 'DeleteOptions');
  if (raw.length === 0) return options;
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
  if (body.gracePeriodSeconds !== undefined && body.gracePeriodSeconds !== null) {
    if (typeof body.gracePeriodSeconds !== 'number' || !Number.isInteger(body.gracePeriodSeconds)) {
      throw badRequest('DeleteOptions.gracePeriodSeconds must be an integer');
    }
    options.gracePeriodSeconds = body.gracePeriodSeconds;
  }
  if (typeof body.propagationPolicy === 'string') options.propagationPolicy = body.propagationPolicy;
  else if (body.orphanDependents === true) options.propagationPolicy = 'Orphan';
  if (Array.isArray(body.dryRun)) options.dryRun = parseDryRun(body.dryRun, 'DeleteOptions') || options.dryRun;
  if (isPlainObject(body.preconditions)) {
    const { uid, resourceVersion } = body.preconditions;
    options.preconditions = {
      uid: typeof uid === 'string' && uid ? uid : undefined,
      resourceVersion: typeof resourceVersion === 'string' && resourceVersion ? resourceVersion : undefined,
    };
  }
  return options;
}

function parseGrace(value: string): number {
  if (!/^-?\d+$/.test(value)) throw badRequest(`gracePeriodSeconds: Invalid value: "${value}": must be an integer`);
  return Number(value);
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
