// The scale subresource of custom resources (autoscaling/v1 Scale), as the apiextensions-apiserver
// serves it when a CRD version declares `subresources.scale`: spec.replicas read from and written
// to specReplicasPath, status.replicas from statusReplicasPath, status.selector from
// labelSelectorPath. `kubectl scale` PATCHes it with a merge patch.

import { decodePatchOptions, decodeUpdateOptions } from '../api/options/index.ts';
import { badRequest, conflict, invalid, notFound, OPTIMISTIC_LOCK_MESSAGE } from '../api/errors.ts';
import { isPlainObject, type KubeObject } from '../api/object.ts';
import type { CustomResourceStrategy } from '../api/customresources/strategy.ts';
import { applyJsonPatch, applyMergePatch } from '../api/patch/index.ts';
import { parseFieldValidation } from '../api/registry/schema-check.ts';
import type { GenericStore } from '../api/registry/store.ts';
import { OBJECT_BODY_FORMATS, decodeRequestBody, parseRequestContentType, type RequestBodyFormat } from './negotiation.ts';
import { sendObject } from './resource-handler.ts';
import type { SubresourceHandler } from './subresources.ts';
import { parseDryRun } from './write-options.ts';

const SCALE_PATCH_FORMATS: readonly RequestBodyFormat[] = ['json-patch', 'merge-patch', 'strategic-merge-patch'];

function scaleOf(store: GenericStore): NonNullable<CustomResourceStrategy['scale']> | undefined {
  return (store.strategy as Partial<CustomResourceStrategy>).scale;
}

function toScale(object: KubeObject, scale: NonNullable<CustomResourceStrategy['scale']>): KubeObject {
  const specReplicas = scale.specReplicas.first(object);
  const statusReplicas = scale.statusReplicas.first(object);
  const selector = scale.labelSelector?.first(object);
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  const status: Record<string, unknown> = { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0 };
  if (typeof selector === 'string' && selector) status.selector = selector;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : 0 },
    status,
  };
}

function setPath(object: KubeObject, fields: string[], value: unknown): void {
  let node = object as Record<string, unknown>;
  for (const field of fields.slice(0, -1)) {
    if (!isPlainObject(node[field])) node[field] = {};
    node = node[field] as Record<string, unknown>;
  }
  node[fields[fields.length - 1]] = value;
}

export function customResourceScaleHandler(): SubresourceHandler {
  return {
    verbs: ['get', 'update', 'patch'],
    async handle({ req, res, info, ctx, store, query, body }) {
      const scale = scaleOf(store);
      if (!scale) throw notFound(store.groupResource, info.name);
      if (info.verb === 'get') {
        sendObject(req, res, store, toScale(await store.get(ctx.namespace, info.name), scale), 200, 'object');
        return;
      }
      const raw = await body();
      let format: RequestBodyFormat;
      let decoded: unknown;
      if (info.verb === 'patch') {
        format = parseRequestContentType(req.headers['content-type'], SCALE_PATCH_FORMATS);
        decoded = decodeRequestBody(raw, format);
      } else {
        format = parseRequestContentType(req.headers['content-type'], OBJECT_BODY_FORMATS);
        decoded = decodeRequestBody(raw, format);
      }
      const fields = scale.specReplicas.fields();
      if (!fields) throw badRequest(`specReplicasPath ${scale.specReplicas.expression} cannot be written`);
      const options = info.verb === 'patch' ? decodePatchOptions(query) : decodeUpdateOptions(query);
      const dryRun = parseDryRun(options.dryRun, info.verb === 'patch' ? 'PatchOptions' : 'UpdateOptions');
      const updated = await store.guaranteedUpdate(ctx, info.name, '', {
        dryRun, fieldManager: options.fieldManager, fieldValidation: parseFieldValidation(options.fieldValidation),
      }, (current) => {
        const currentScale = toScale(current, scale);
        let next: KubeObject;
        if (info.verb === 'update') next = decoded as KubeObject;
        else if (format === 'json-patch') next = applyJsonPatch(currentScale, decoded);
        else next = applyMergePatch(currentScale, decoded);
        const requestedVersion = isPlainObject(next.metadata) ? next.metadata.resourceVersion : undefined;
        if (requestedVersion && requestedVersion !== current.metadata.resourceVersion) throw conflict(store.groupResource, info.name, OPTIMISTIC_LOCK_MESSAGE);
        const replicas = isPlainObject(next.spec) ? next.spec.replicas : undefined;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
          throw invalid('Scale', 'autoscaling', info.name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be an integer` }]);
        }
        if (replicas < 0) {
          throw invalid('Scale', 'autoscaling', info.name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${replicas}: must be greater than or equal to 0` }]);
        }
        const copy = structuredClone(current) as KubeObject;
        setPath(copy, fields, replicas);
        return copy;
      });
      sendObject(req, res, store, toScale(updated, scale), 200, 'object');
    },
  };
}
