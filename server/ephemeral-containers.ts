// pods/{name}/ephemeralcontainers (get, update, patch): the only way to add ephemeral containers to a running pod, as
// `kubectl debug` does with a strategic merge patch. Only spec.ephemeralContainers changes; validation is upstream's
// ValidatePodEphemeralContainersUpdate in substance: new containers need a unique DNS-label name and an image, may not
// set ports, probes, resources or lifecycle, may only target an existing container, and existing ephemeral containers
// may be neither changed nor removed. The kubelet of the pod's node starts them (kubelet/pod-worker.ts).
import { isDeepStrictEqual } from 'node:util';
import { StatusError, badRequest, conflict, invalid, notFound, type FieldError } from '../api/errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../api/object.ts';
import { schemaForKind } from '../api/openapi/schema.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../api/patch/index.ts';
import { KeyNotFoundError } from '../storage/interface.ts';
import { OBJECT_BODY_FORMATS, PATCH_BODY_FORMATS, decodeRequestBody, parseRequestContentType } from './negotiation.ts';
import { sendObject } from './resource-handler.ts';
import type { SubresourceHandler } from './subresources.ts';

interface ContainerLike {
  name?: string;
  image?: string;
  targetContainerName?: string;
  [field: string]: unknown;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const FORBIDDEN_FIELDS = ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resources', 'resizePolicy'];

function containersOf(spec: Record<string, unknown>, field: string): ContainerLike[] {
  return Array.isArray(spec[field]) ? (spec[field] as ContainerLike[]) : [];
}

export function validateEphemeralContainersUpdate(updated: ContainerLike[], current: ContainerLike[], spec: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` });
  const byName = new Map(updated.map((c) => [c.name, c]));
  for (const old of current) {
    const now = byName.get(old.name);
    if (!now) errors.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers "${old.name}" may not be removed`));
    else if (!isDeepStrictEqual(now, old)) errors.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers "${old.name}" may not be changed`));
  }
  const regular = [...containersOf(spec, 'containers'), ...containersOf(spec, 'initContainers')].map((c) => c.name);
  const seen = new Set<string | undefined>(regular);
  updated.forEach((container, index) => {
    const path = `spec.ephemeralContainers[${index}]`;
    if (current.some((c) => c.name === container.name)) {
      seen.add(container.name);
      return;
    }
    if (!container.name) errors.push({ type: 'FieldValueRequired', field: `${path}.name`, message: 'Required value' });
    else if (!DNS_LABEL.test(container.name) || container.name.length > 63) {
      errors.push({ type: 'FieldValueInvalid', field: `${path}.name`, message: `Invalid value: "${container.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')` });
    } else if (seen.has(container.name)) {
      errors.push({ type: 'FieldValueDuplicate', field: `${path}.name`, message: `Duplicate value: "${container.name}"` });
    }
    seen.add(container.name);
    if (!container.image) errors.push({ type: 'FieldValueRequired', field: `${path}.image`, message: 'Required value' });
    for (const field of FORBIDDEN_FIELDS) {
      if (container[field] !== undefined && !(field === 'resources' && isPlainObject(container[field]) && Object.keys(container[field] as object).length === 0)) {
        errors.push(forbidden(`${path}.${field}`, 'cannot be set for an Ephemeral Container'));
      }
    }
    if (container.targetContainerName && !regular.includes(container.targetContainerName)) {
      errors.push({ type: 'FieldValueNotFound', field: `${path}.targetContainerName`, message: `Not found: "${container.targetContainerName}"` });
    }
  });
  return errors;
}

export function ephemeralContainersHandler(): SubresourceHandler {
  return {
    verbs: ['get', 'update', 'patch'],
    async handle(request) {
      const { req, res, info, store, ctx, query } = request;
      if (info.verb === 'get') {
        sendObject(req, res, store, await store.get(ctx.namespace, info.name), 200, 'object');
        return;
      }
      const raw = await request.body();
      let computeNew: (current: KubeObject) => KubeObject;
      if (info.verb === 'update') {
        const body = decodeRequestBody(raw, parseRequestContentType(req.headers['content-type'], OBJECT_BODY_FORMATS));
        if (!isPlainObject(body) || !isPlainObject(body.metadata)) throw badRequest('the body of the request must be a Pod object');
        computeNew = () => body as KubeObject;
      } else {
        const format = parseRequestContentType(req.headers['content-type'], PATCH_BODY_FORMATS);
        if (format === 'apply-patch') throw new StatusError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json');
        const patch = decodeRequestBody(raw, format);
        const schema = schemaForKind({ group: '', version: 'v1', kind: 'Pod' });
        computeNew = (current) => {
          if (format === 'json-patch') return applyJsonPatch(current, patch);
          if (format === 'merge-patch') return applyMergePatch(current, patch);
          if (!schema) throw badRequest('no schema for Pod');
          return applyStrategicMergePatch(current, patch, schema);
        };
      }
      const dryRun = query.getAll('dryRun').length > 0;
      let result: KubeObject | undefined;
      const key = store.key(ctx.namespace, info.name);
      const update = (current: KubeObject): KubeObject => {
        const proposed = computeNew(deepCopy(current));
        const proposedVersion = isPlainObject(proposed.metadata) ? proposed.metadata.resourceVersion : undefined;
        if (proposedVersion && proposedVersion !== current.metadata.resourceVersion) {
          throw conflict(store.groupResource, info.name, 'the object has been modified; please apply your changes to the latest version and try again');
        }
        const spec = (isPlainObject(current.spec) ? current.spec : {}) as Record<string, unknown>;
        const proposedSpec = (isPlainObject(proposed.spec) ? proposed.spec : {}) as Record<string, unknown>;
        const updated = containersOf(proposedSpec, 'ephemeralContainers').map((c) => ({
          terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
          imagePullPolicy: String(c.image ?? '').endsWith(':latest') || !String(c.image ?? '').includes(':') ? 'Always' : 'IfNotPresent',
          ...c,
        }));
        const existing = containersOf(spec, 'ephemeralContainers');
        const errors = validateEphemeralContainersUpdate(updated, existing, spec);
        if (errors.length > 0) throw invalid('Pod', '', info.name, errors);
        const next = deepCopy(current);
        (next.spec as Record<string, unknown>).ephemeralContainers = updated;
        if (isDeepStrictEqual(updated, existing)) return current;
        result = next;
        return dryRun ? current : next;
      };
      try {
        const stored = await store.storage.guaranteedUpdate(key, update);
        sendObject(req, res, store, dryRun && result ? result : stored, 200, 'object');
      } catch (err) {
        if (err instanceof KeyNotFoundError) throw notFound(store.groupResource, info.name);
        throw err;
      }
    },
  };
}
