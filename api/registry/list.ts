// LIST for the generic store: selectors, paging with continue tokens, and the resourceVersion /
// resourceVersionMatch semantics documented in
// https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions.

import { StatusError, badRequest, resourceExpired } from '../errors.ts';
import type { KubeList, KubeObject } from '../object.ts';
import { RevisionCompactedError } from '../../storage/interface.ts';
import { decodeContinue, encodeContinue } from './continue-token.ts';
import type { GenericStore } from './store.ts';
import { objectFilter, type ObjectFilter } from './filter.ts';
import { validateListOptions } from './list-options.ts';

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  /** Only meaningful for watches; a LIST that sets it is refused. */
  sendInitialEvents?: boolean;
}

const EXPIRED_CONTINUE = 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/**
 * APIObjectVersioner.ParseResourceVersion: "" is unset, otherwise strconv.ParseUint(v, 10, 64).
 * The message is upstream's; the code is 400 where kube-apiserver 1.32 still answers 500 for this
 * client error (kubernetes/kubernetes#139485).
 */
export function parseResourceVersion(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const quoted = JSON.stringify(value);
  if (!/^[0-9]+$/.test(value)) throw badRequest(`resourceVersion: Invalid value: ${quoted}: strconv.ParseUint: parsing ${quoted}: invalid syntax`);
  if (BigInt(value) > 2n ** 64n - 1n) throw badRequest(`resourceVersion: Invalid value: ${quoted}: strconv.ParseUint: parsing ${quoted}: value out of range`);
  return Number(value);
}

export async function listObjects(store: GenericStore, namespace: string, query: ListQuery): Promise<KubeList> {
  const filter = objectFilter(store.strategy, query.labelSelector, query.fieldSelector);
  const limit = query.limit && query.limit > 0 ? query.limit : undefined;
  const prefix = store.prefix(namespace);
  validateListOptions(query, false);
  const requested = parseResourceVersion(query.resourceVersion);
  const match = query.resourceVersionMatch;

  let revision: number | undefined;
  let startAfterKey: string | undefined;
  if (query.continue) {
    // The etcd3 store's checks (storage.ValidateListOptions): 400s, not ListOptions validation.
    const state = decodeContinue(query.continue);
    if (query.resourceVersion && query.resourceVersion !== '0') {
      throw badRequest('specifying resource version is not allowed when using continue');
    }
    // A token minted after its snapshot expired (revision -1) continues at the latest state.
    revision = state.revision > 0 ? state.revision : undefined;
    startAfterKey = prefix + state.startAfter;
  } else if (match === 'Exact') {
    // etcd answers a future revision with ErrFutureRev, which the store reports as too large.
    const current = await store.storage.currentRevision();
    if (requested !== undefined && requested > current) throw tooLargeResourceVersion(requested, current);
    revision = requested;
  } else if (requested !== undefined && requested > 0) {
    // NotOlderThan (the default for a set resourceVersion): the latest state is new enough unless
    // the client asks for a revision this server has not reached.
    const current = await store.storage.currentRevision();
    if (requested > current) throw tooLargeResourceVersion(requested, current);
  }

  const fast = revision === undefined && !startAfterKey ? await fastPathByName(store, namespace, filter) : undefined;
  if (fast) return fast;

  let result;
  try {
    // No predicate when nothing is filtered: the backend can then count what remains.
    result = await store.storage.list(prefix, { limit, startAfterKey, revision, predicate: filter.everything ? undefined : filter.matches });
  } catch (err) {
    if (err instanceof RevisionCompactedError) {
      if (startAfterKey !== undefined) {
        // handleCompactedErrorForPaging: the Status carries a token that resumes at the latest state.
        const expired = resourceExpired(EXPIRED_CONTINUE);
        expired.listContinue = encodeContinue({ revision: -1, startAfter: startAfterKey.slice(prefix.length) });
        throw expired;
      }
      throw resourceExpired(`The resourceVersion for the provided list is too old.`);
    }
    throw err;
  }
  const list: KubeList = {
    apiVersion: store.apiVersion,
    kind: store.strategy.listKind,
    metadata: { resourceVersion: String(result.revision) },
    items: result.items,
  };
  if (result.lastKey !== undefined && limit !== undefined) {
    list.metadata.continue = encodeContinue({ revision: result.revision, startAfter: result.lastKey.slice(prefix.length) });
    if (result.remainingItemCount !== undefined && !query.labelSelector && !query.fieldSelector) {
      list.metadata.remainingItemCount = result.remainingItemCount;
    }
  }
  return list;
}

/**
 * `fieldSelector=metadata.name=x` (kubectl wait, delete, get -w) needs one key, not a scan: list
 * with the object's key as prefix (one consistent read; the predicate drops `x2`, `x-y`, ...).
 */
async function fastPathByName(store: GenericStore, namespace: string, filter: ObjectFilter): Promise<KubeList | undefined> {
  const name = filter.exactName;
  if (name === undefined || (store.strategy.namespaced && !namespace)) return undefined;
  const result = await store.storage.list(store.key(namespace, name), { predicate: filter.matches, limit: 1 });
  const items: KubeObject[] = result.items;
  return { apiVersion: store.apiVersion, kind: store.strategy.listKind, metadata: { resourceVersion: String(result.revision) }, items };
}

/** storage.NewTooLargeResourceVersionError as the API reports it: 504 Timeout, retry after 1 s. */
export function tooLargeResourceVersion(requested: number, current: number): StatusError {
  return new StatusError(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}
