// The autoscaling/v1 Scale subresource of Deployments, ReplicaSets, StatefulSets and
// ReplicationControllers (pkg/registry/apps/deployment/storage ScaleREST and its siblings): GET
// reads spec.replicas, status.replicas and the selector as a string; PUT and PATCH change only
// spec.replicas, honouring the Scale's resourceVersion as a precondition.

import { decodeUpdateOptions } from '../api/options/index.ts';
import { badRequest, conflict, invalid, OPTIMISTIC_LOCK_MESSAGE } from '../api/errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../api/object.ts';
import type { GenericStore } from '../api/registry/store.ts';
import { applyJsonPatch, applyMergePatch } from '../api/patch/index.ts';
import { labelSelectorFromSpec, type LabelSelectorSpec } from '../api/selectors/label-selector.ts';
import { parseFieldValidation } from '../api/registry/schema-check.ts';
import {
  OBJECT_BODY_FORMATS, PATCH_BODY_FORMATS, decodeRequestBody, parseRequestContentType,
} from './negotiation.ts';
import type { SubresourceHandler, SubresourceRequest } from './subresources.ts';
import { parseDryRun } from './write-options.ts';

type Json = Record<string, unknown>;

/** How a kind's selector reads as a label selector string: structured (apps) or a plain map (RCs). */
function selectorText(object: KubeObject): string {
  const spec = isPlainObject(object.spec) ? object.spec : {};
  const selector = spec.selector;
  if (!isPlainObject(selector)) return '';
  const structured = 'matchLabels' in selector || 'matchExpressions' in selector;
  const spec2: LabelSelectorSpec = structured ? selector as LabelSelectorSpec : { matchLabels: selector as Record<string, string> };
  try {
    return labelSelectorFromSpec(spec2).toString();
  } catch {
    return '';
  }
}

export function scaleOf(object: KubeObject): Json {
  const spec = isPlainObject(object.spec) ? object.spec : {};
  const status = isPlainObject(object.status) ? object.status : {};
  const meta = object.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion,
      creationTimestamp: meta.creationTimestamp,
    },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 0 },
    status: { replicas: typeof status.replicas === 'number' ? status.replicas : 0, selector: selectorText(object) },
  };
}

function validateScale(scale: Json, name: string): void {
  const replicas = isPlainObject(scale.spec) ? scale.spec.replicas : undefined;
  if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas))) {
    throw badRequest('Scale.spec.replicas must be an integer');
  }
  if (typeof replicas === 'number' && replicas < 0) {
    throw invalid('Scale', 'autoscaling', name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${replicas}: must be greater than or equal to 0` }]);
  }
}

async function writeScale(request: SubresourceRequest, computeScale: (current: Json) => Json): Promise<KubeObject> {
  const { store, ctx, info, query } = request;
  const options = decodeUpdateOptions(query);
  const dryRun = parseDryRun(options.dryRun, 'UpdateOptions');
  return store.guaranteedUpdate(ctx, info.name, '', {
    dryRun, fieldManager: options.fieldManager ?? request.req.headers['user-agent']?.split('/')[0] ?? 'unknown',
    fieldValidation: parseFieldValidation(options.fieldValidation),
  }, (current) => {
    const scale = computeScale(scaleOf(current));
    if (!isPlainObject(scale) || !isPlainObject(scale.metadata)) throw badRequest('the body of the request must be a Scale object');
    validateScale(scale, info.name);
    const wanted = (scale.metadata as Json).resourceVersion;
    if (typeof wanted === 'string' && wanted !== '' && wanted !== current.metadata.resourceVersion) {
      throw conflict(store.groupResource, info.name, OPTIMISTIC_LOCK_MESSAGE);
    }
    const next = deepCopy(current);
    const spec = (isPlainObject(next.spec) ? next.spec : (next.spec = {})) as Json;
    spec.replicas = isPlainObject(scale.spec) && typeof scale.spec.replicas === 'number' ? scale.spec.replicas : 0;
    return next;
  });
}

export function scaleHandler(): SubresourceHandler {
  return {
    verbs: ['get', 'update', 'patch'],
    async handle(request) {
      const { info, res, store, ctx } = request;
      let object: KubeObject;
      if (info.verb === 'get') {
        object = await store.get(ctx.namespace, info.name);
      } else if (info.verb === 'update') {
        const format = parseRequestContentType(request.req.headers['content-type'], OBJECT_BODY_FORMATS);
        const body = decodeRequestBody(await request.body(), format);
        if (!isPlainObject(body)) throw badRequest('the body of the request must be a Scale object');
        if (body.kind !== undefined && body.kind !== 'Scale') {
          throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (Scale)`);
        }
        const named = isPlainObject(body.metadata) ? body.metadata.name : undefined;
        if (named !== undefined && named !== info.name) {
          throw badRequest(`the name of the object (${String(named)}) does not match the name on the URL (${info.name})`);
        }
        object = await writeScale(request, () => ({ metadata: {}, ...body }));
      } else {
        const format = parseRequestContentType(request.req.headers['content-type'], PATCH_BODY_FORMATS);
        if (format === 'apply-patch') throw badRequest('apply patches are not supported on the scale subresource');
        const patch = decodeRequestBody(await request.body(), format);
        object = await writeScale(request, (current) => (format === 'json-patch'
          ? applyJsonPatch(current as unknown as KubeObject, patch)
          : applyMergePatch(current as unknown as KubeObject, patch)) as unknown as Json);
      }
      res.status(200).json(scaleOf(object));
    },
  };
}

/** The kinds with a scale subresource: group and resource. */
export const SCALABLE_RESOURCES: [string, string][] = [
  ['apps', 'deployments'], ['apps', 'replicasets'], ['apps', 'statefulsets'], ['', 'replicationcontrollers'],
];
