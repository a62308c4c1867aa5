// The one generic store (k8s.io/apiserver/pkg/registry/generic/registry.Store): every resource's
// create/get/update/patch/delete goes through here, driven by the resource's strategy. Lists and
// watches live in list.ts and watch.ts; this file owns writes.

import {
  StatusError, alreadyExists, badRequest, conflict, forbidden, invalid, notFound, OPTIMISTIC_LOCK_MESSAGE, qualifiedResource,
  type FieldError, type GroupResource,
} from '../errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../object.ts';
import type { RequestContext, ResourceStrategy } from '../resource.ts';
import {
  KeyExistsError, KeyNotFoundError, PreconditionError, type Preconditions, type Storage,
} from '../../storage/interface.ts';
import { fillSystemFieldsOnCreate, generateName, keepSystemFieldsOnUpdate, rfc3339, specPart } from './object-meta.ts';
import { checkIncomingBody, copyDuplicateFields, type FieldValidation } from './schema-check.ts';
import { checkDeletePreconditions, storagePreconditionConflict } from './delete-preconditions.ts';
import { finalizersForDeletion } from './gc-finalizers.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/object-meta.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, serverSideApply, trackUpdateManagedFields } from '../patch/index.ts';
import { schemaForKind } from '../openapi/schema.ts';
import type { SchemaNode } from '../openapi/schema-node.ts';
import type { AdmissionAttributes, AdmissionChain, AdmissionOperation } from '../admission.ts';
import { isDeepStrictEqual } from 'node:util';

export interface WriteOptions {
  dryRun: boolean;
  fieldManager?: string;
  fieldValidation: FieldValidation;
  /** Receives admission warnings of an update (guaranteedUpdate's callers turn them into headers). */
  admissionWarnings?: string[];
  /**
   * The body was built by the server itself (bootstrap namespaces, RBAC policy, the kubernetes
   * Service), not decoded from a request: as kube-apiserver's typed in-process writes, it skips the
   * OpenAPI decoding check (whose validator would otherwise be compiled at every first start).
   * Strategy validation and admission still run.
   */
  internal?: boolean;
}

export interface WriteResult {
  object: KubeObject;
  /** Warnings for the `Warning:` response header (fieldValidation=Warn). */
  warnings: string[];
  /** True when a PUT or apply PATCH created the object (HTTP 201). */
  created: boolean;
}

export type PatchContentType =
  | 'application/json-patch+json' | 'application/merge-patch+json'
  | 'application/strategic-merge-patch+json' | 'application/apply-patch+yaml';

export interface PatchOptions extends WriteOptions {
  force: boolean;
}

export interface DeleteRequest {
  gracePeriodSeconds?: number;
  preconditions?: Preconditions;
  propagationPolicy?: string;
  dryRun: boolean;
}

export interface DeleteResult {
  object: KubeObject;
  /** False when the object stays (graceful deletion or finalizers pending): HTTP 202 for some kinds, 200 for pods. */
  deletedImmediately: boolean;
}

/** Namespace lookups the store needs for namespaced resources (answered by the namespaces store). */
export interface NamespaceLookup {
  phase(namespace: string): Promise<'Active' | 'Terminating' | undefined>;
}

/** Where a write lands: the object, its status, or a namespace's finalize (spec.finalizers and metadata). */
export type Subresource = '' | 'status' | 'finalize' | 'approval';

export class GenericStore {
  readonly groupResource: GroupResource;
  readonly apiVersion: string;
  /** The admission chain run on every write (set by ApiRegistry.setAdmission). */
  admission: AdmissionChain | undefined;

  constructor(
    readonly strategy: ResourceStrategy,
    readonly storage: Storage,
    private readonly namespaces: NamespaceLookup | undefined,
  ) {
    this.groupResource = { group: strategy.group, resource: strategy.resource };
    this.apiVersion = strategy.group ? `${strategy.group}/${strategy.version}` : strategy.version;
  }

  /** `/registry/pods/` (all namespaces) or `/registry/pods/<ns>/`. */
  prefix(namespace: string): string {
    const base = `/registry/${this.strategy.storageResource}/`;
    return this.strategy.namespaced && namespace ? `${base}${namespace}/` : base;
  }

  key(namespace: string, name: string): string {
    return this.strategy.namespaced ? `/registry/${this.strategy.storageResource}/${namespace}/${name}` : `/registry/${this.strategy.storageResource}/${name}`;
  }

  async get(namespace: string, name: string): Promise<KubeObject> {
    const object = await this.storage.get(this.key(namespace, name));
    if (!object) throw notFound(this.groupResource, name);
    return this.inThisVersion(object);
  }

  /** A stored object written through another version, converted to this one (conversion webhooks). */
  async inThisVersion(object: KubeObject): Promise<KubeObject> {
    if (!this.strategy.convert || object.apiVersion === this.apiVersion) return object;
    return (await this.strategy.convert([object]))[0];
  }

  async create(ctx: RequestContext, body: KubeObject, options: WriteOptions): Promise<WriteResult> {
    const warnings = this.checkIncoming(body, ctx.namespace, options);
    const requestedVersion = body.metadata.resourceVersion;
    const object = deepCopy(body);
    object.apiVersion = this.apiVersion;
    object.kind = this.strategy.kind;
    if (this.strategy.namespaced) object.metadata.namespace = ctx.namespace;
    else delete object.metadata.namespace;
    if (!object.metadata.name && object.metadata.generateName) object.metadata.name = generateName(object.metadata.generateName);
    fillSystemFieldsOnCreate(object, ctx.now, this.strategy.tracksGeneration);
    this.strategy.prepareForCreate?.(object, ctx);
    this.strategy.applyDefaults?.(object);
    const attributes = this.admissionAttributes('CREATE', ctx, object.metadata.name ?? '', '', object, undefined, options.dryRun);
    await this.mutate(attributes);
    dropEmptyMetadataLists(object);
    this.validateCreate(object, ctx);
    await this.admission?.validate(attributes);
    // Admission sees the name the client sent ('' when it asked for a generated one).
    await this.requireNamespaceForCreate(ctx.namespace, body.metadata.name ?? '');
    const tracked = this.trackFields(undefined, object, options.fieldManager, ctx.now, '');
    warnings.push(...attributes.warnings!);
    if (options.dryRun) {
      if (await this.storage.get(this.key(ctx.namespace, object.metadata.name!))) throw alreadyExists(this.groupResource, object.metadata.name!);
      return { object: tracked, warnings, created: true };
    }
    // The etcd3 store's check, after validation; not an API status upstream, so a reason-less 500.
    // (A version that does not parse as a number is cleared instead, as the versioner does.)
    if (typeof requestedVersion === 'string' && /^\d+$/.test(requestedVersion) && Number(requestedVersion) !== 0) {
      throw new StatusError(500, '', 'resourceVersion should not be set on objects to be created');
    }
    try {
      const stored = await this.storage.create(this.key(ctx.namespace, object.metadata.name!), tracked);
      return { object: stored, warnings, created: true };
    } catch (err) {
      if (err instanceof KeyExistsError) throw alreadyExists(this.groupResource, object.metadata.name!);
      throw err;
    }
  }

  /** PUT: replaces the object (or its status). Creating through PUT is not allowed for these kinds. */
  async update(ctx: RequestContext, name: string, body: KubeObject, subresource: Subresource, options: WriteOptions): Promise<WriteResult> {
    const warnings = this.checkIncoming(body, ctx.namespace, options);
    if (body.metadata?.name !== undefined && body.metadata.name !== name) {
      throw badRequest('the name of the object (' + body.metadata.name + ') does not match the name on the URL (' + name + ')');
    }
    const requestedVersion = body.metadata?.resourceVersion;
    const requestedUid = body.metadata?.uid;
    const admissionWarnings: string[] = [];
    const object = await this.guaranteedUpdate(ctx, name, subresource, { ...options, admissionWarnings }, (current) => {
      // A PUT's uid is a storage precondition (DefaultUpdatedObjectInfo.Preconditions), checked
      // before the resourceVersion, and worded as the etcd3 store's InvalidObjError.
      if (requestedUid && requestedUid !== current.metadata.uid) {
        throw storagePreconditionConflict(this.groupResource, name, new PreconditionError(this.key(ctx.namespace, name), 'uid', requestedUid, current.metadata.uid ?? ''));
      }
      if (requestedVersion && requestedVersion !== current.metadata.resourceVersion) {
        throw conflict(this.groupResource, name, OPTIMISTIC_LOCK_MESSAGE);
      }
      return deepCopy(body);
    });
    return { object, warnings: [...warnings, ...admissionWarnings], created: false };
  }

  async patch(ctx: RequestContext, name: string, contentType: PatchContentType, patch: unknown, subresource: Subresource, options: PatchOptions): Promise<WriteResult> {
    const schema = this.schema();
    if (contentType === 'application/apply-patch+yaml') return this.apply(ctx, name, patch, subresource, options);
    let warnings: string[] = [];
    const admissionWarnings: string[] = [];
    const object = await this.guaranteedUpdate(ctx, name, subresource, { ...options, admissionWarnings }, (current) => {
      let patched: KubeObject;
      if (contentType === 'application/json-patch+json') patched = applyJsonPatch(current, patch);
      else if (contentType === 'application/merge-patch+json') patched = applyMergePatch(current, patch);
      else patched = applyStrategicMergePatch(current, patch, schema);
      if (!isPlainObject(patched) || !isPlainObject(patched.metadata)) throw badRequest('the patch produced an object without metadata');
      // patch.go's checkName: a patch may not rename the object or move it to another namespace.
      const patchedName = typeof patched.metadata.name === 'string' ? patched.metadata.name : '';
      if (patchedName !== name) {
        throw badRequest(`the name of the object (${patchedName}) does not match the name on the URL (${name})`);
      }
      const patchedNamespace = patched.metadata.namespace;
      if (ctx.namespace && typeof patchedNamespace === 'string' && patchedNamespace && patchedNamespace !== ctx.namespace) {
        throw badRequest(`the namespace of the object (${patchedNamespace}) does not match the namespace on the URL (${ctx.namespace})`);
      }
      const patchedVersion = patched.metadata.resourceVersion;
      if (patchedVersion && patchedVersion !== current.metadata.resourceVersion) {
        throw conflict(this.groupResource, name, OPTIMISTIC_LOCK_MESSAGE);
      }
      // Members the merge or strategic merge patch gave twice count as the patched object's own
      // (kube's strict decoding of the patch reports them with the unknown fields).
      if (isPlainObject(patch)) copyDuplicateFields(patch, patched);
      warnings = this.checkIncoming(patched, ctx.namespace, { fieldValidation: options.fieldValidation });
      return patched;
    });
    return { object, warnings: [...warnings, ...admissionWarnings], created: false };
  }

  /** Server-side apply: creates the object when missing, otherwise merges with field ownership. */
  private async apply(ctx: RequestContext, name: string, patch: unknown, subresource: Subresource, options: PatchOptions): Promise<WriteResult> {
    if (!isPlainObject(patch)) throw badRequest('error decoding YAML: the applied configuration must be an object');
    const applied = patch as KubeObject;
    if (!isPlainObject(applied.metadata)) applied.metadata = {};
    if (applied.metadata.name !== undefined && applied.metadata.name !== name) {
      throw badRequest('the name of the object (' + applied.metadata.name + ') does not match the name on the URL (' + name + ')');
    }
    if (!options.fieldManager) throw badRequest('PATCH, with apply patch type, requires fieldManager to be set');
    const warnings = this.checkIncoming(applied, ctx.namespace, { fieldValidation: options.fieldValidation });
    const schema = this.schema();
    const key = this.key(ctx.namespace, name);
    const existing = await this.storage.get(key);
    if (!existing) {
      if (subresource) throw notFound(this.groupResource, name);
      const created = serverSideApply({ live: undefined, applied, manager: options.fieldManager, force: options.force, schema, apiVersion: this.apiVersion, now: ctx.now });
      created.metadata.name = name;
      try {
        const result = await this.createApplied(ctx, created, options, warnings);
        return { object: result, warnings, created: true };
      } catch (err) {
        // Lost a race with another creator: apply to what is there now.
        if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
      }
    }
    const admissionWarnings: string[] = [];
    const object = await this.guaranteedUpdate(ctx, name, subresource, { ...options, fieldManager: undefined, admissionWarnings }, (current) =>
      serverSideApply({
        live: current, applied, manager: options.fieldManager!, force: options.force, schema,
        apiVersion: this.apiVersion, now: ctx.now, subresource: subresource || undefined,
      }));
    return { object, warnings: [...warnings, ...admissionWarnings], created: false };
  }

  private async createApplied(ctx: RequestContext, object: KubeObject, options: WriteOptions, warnings: string[]): Promise<KubeObject> {
    object.apiVersion = this.apiVersion;
    object.kind = this.strategy.kind;
    if (this.strategy.namespaced) object.metadata.namespace = ctx.namespace;
    fillSystemFieldsOnCreate(object, ctx.now, this.strategy.tracksGeneration);
    this.strategy.prepareForCreate?.(object, ctx);
    this.strategy.applyDefaults?.(object);
    const attributes = this.admissionAttributes('CREATE', ctx, object.metadata.name ?? '', '', object, undefined, options.dryRun);
    await this.mutate(attributes);
    this.validateCreate(object, ctx);
    await this.admission?.validate(attributes);
    await this.requireNamespaceForCreate(ctx.namespace, object.metadata.name ?? '');
    warnings.push(...attributes.warnings!);
    if (options.dryRun) return object;
    try {
      return await this.storage.create(this.key(ctx.namespace, object.metadata.name!), object);
    } catch (err) {
      if (err instanceof KeyExistsError) throw alreadyExists(this.groupResource, object.metadata.name!);
      throw err;
    }
  }

  /**
   * The shared update path (PUT, PATCH, apply, subresources): compute the new object from the
   * current one, apply the strategy's update rules, validate, and compare-and-swap.
   * `computeNew` returns a fresh object the store may change.
   */
  async guaranteedUpdate(
    ctx: RequestContext, name: string, subresource: Subresource, options: WriteOptions,
    computeNew: (current: KubeObject) => KubeObject,
  ): Promise<KubeObject> {
    const key = this.key(ctx.namespace, name);
    let dryRunResult: KubeObject | undefined;
    const tryUpdate = async (current: KubeObject): Promise<KubeObject> => {
      const object = computeNew(await this.inThisVersion(current));
      object.apiVersion = this.apiVersion;
      object.kind = this.strategy.kind;
      if (!isPlainObject(object.metadata)) object.metadata = {};
      if (this.strategy.namespaced) object.metadata.namespace = ctx.namespace;
      object.metadata.name = name;
      keepSystemFieldsOnUpdate(object, current);
      if (subresource === 'status') {
        this.keepAllButStatus(object, current);
        this.strategy.prepareForStatusUpdate?.(object, current, ctx);
      } else if (subresource === 'approval') {
        this.keepAllButStatus(object, current);
        this.strategy.statusLikeSubresources?.[subresource]?.prepareForUpdate?.(object, current, ctx);
      } else if (subresource === 'finalize') {
        // namespaceFinalizeStrategy: everything from the request but the status.
        if (current.status === undefined) delete object.status;
        else object.status = deepCopy(current.status);
      } else {
        if (this.strategy.hasStatus) {
          if (current.status === undefined) delete object.status;
          else object.status = deepCopy(current.status);
        }
        this.strategy.prepareForUpdate?.(object, current, ctx);
      }
      this.strategy.applyDefaults?.(object);
      const attributes = this.admissionAttributes('UPDATE', ctx, name, subresource, object, current, options.dryRun);
      // A retried update (lost compare-and-swap) runs admission again: keep only the last run's warnings.
      if (options.admissionWarnings) {
        options.admissionWarnings.length = 0;
        attributes.warnings = options.admissionWarnings;
      }
      await this.mutate(attributes);
      dropEmptyMetadataLists(object);
      if (this.strategy.tracksGeneration && subresource === '' && !isDeepStrictEqual(specPart(object), specPart(current))) {
        object.metadata.generation = (current.metadata.generation ?? 0) + 1;
      }
      const errors: FieldError[] = [
        ...validateObjectMetaUpdate(object.metadata, current.metadata),
        ...(subresource === 'status'
          ? this.strategy.validateStatusUpdate?.(object, current, ctx) ?? []
          : subresource === 'approval'
            ? this.strategy.statusLikeSubresources?.[subresource]?.validateUpdate?.(object, current, ctx) ?? []
            : this.strategy.validateUpdate?.(object, current, ctx) ?? []),
      ];
      if (errors.length > 0) throw invalid(this.strategy.kind, this.strategy.group, name, errors);
      await this.admission?.validate(attributes);
      const tracked = this.trackFields(current, object, options.fieldManager, ctx.now, subresource);
      // Nothing changed: keep the stored object and its resourceVersion (no write, no event). As the
      // etcd3 store compares encoded bytes, a change of managedFields alone is a change: a new
      // applier of equal values, the client-side → server-side apply migration, `[{}]` clearing them.
      const comparable = { ...tracked, metadata: { ...tracked.metadata, resourceVersion: current.metadata.resourceVersion } };
      if (isDeepStrictEqual(comparable, current)) return current;
      if (options.dryRun) {
        dryRunResult = { ...tracked, metadata: { ...tracked.metadata, resourceVersion: current.metadata.resourceVersion } };
        return current;
      }
      return tracked;
    };
    try {
      const result = await this.storage.guaranteedUpdate(key, tryUpdate);
      if (dryRunResult) return dryRunResult;
      // An update that removed the last finalizer of an object being deleted completes the deletion.
      if (result.metadata.deletionTimestamp && result.metadata.deletionGracePeriodSeconds === 0 && this.readyToRemove(result)) {
        return await this.removeNow(key, result);
      }
      return result;
    } catch (err) {
      if (err instanceof KeyNotFoundError) throw notFound(this.groupResource, name);
      throw err;
    }
  }

  /**
   * Deletion (registry.Store.Delete): graceful when the strategy asks for a grace period, kept
   * while finalizers remain, otherwise removed at once.
   */
  async delete(ctx: RequestContext, name: string, request: DeleteRequest): Promise<DeleteResult> {
    const key = this.key(ctx.namespace, name);
    const current = await this.storage.get(key);
    if (!current) throw notFound(this.groupResource, name);
    const attributes = this.admissionAttributes('DELETE', ctx, name, '', undefined, current, request.dryRun);
    await this.mutate(attributes);
    await this.admission?.validate(attributes);
    // rest.BeforeDelete: DeleteOptions validation, then the early precondition check.
    const propagation = request.propagationPolicy;
    if (propagation !== undefined && !['Orphan', 'Background', 'Foreground'].includes(propagation)) {
      throw invalid('DeleteOptions', 'meta.k8s.io', '', [{ type: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: "${propagation}": supported values: "Foreground", "Background", "Orphan", "nil"` }]);
    }
    checkDeletePreconditions(this.strategy, name, current, request.preconditions);
    const pendingMessage = this.strategy.finalizationPendingMessage;
    if (pendingMessage && current.metadata.deletionTimestamp && this.strategy.pendingFinalization?.(current)) {
      throw conflict(this.groupResource, name, pendingMessage);
    }
    // Negative values are treated as 1s on the delete path.
    if (request.gracePeriodSeconds !== undefined && request.gracePeriodSeconds < 0) request.gracePeriodSeconds = 1;
    const grace = this.strategy.deletionGracePeriodSeconds?.(current, request.gracePeriodSeconds) ?? 0;
    // Finalizers cannot be changed through DeleteOptions once a deletion is pending.
    const gcFinalizers = (object: KubeObject): string[] | undefined => (object.metadata.deletionTimestamp
      ? undefined : finalizersForDeletion(object, propagation, this.strategy.defaultGarbageCollectionPolicy));
    if (grace === 0 && gcFinalizers(current) === undefined && this.readyToRemove(current)) {
      if (request.dryRun) return { object: current, deletedImmediately: true };
      return { object: await this.removeNow(key, current, request.preconditions), deletedImmediately: true };
    }
    // Graceful or finalizer-held: mark the object; its node's kubelet (or the finalizer's owner) finishes the job.
    if (request.dryRun) return { object: current, deletedImmediately: false };
    const marked = await this.storage.guaranteedUpdate(key, (latest) => {
      checkDeletePreconditions(this.strategy, name, latest, request.preconditions);
      const finalizers = gcFinalizers(latest);
      const existingGrace = latest.metadata.deletionGracePeriodSeconds;
      // A second delete may only shorten the grace period (BeforeDelete in k8s.io/apiserver/pkg/registry/rest).
      if (latest.metadata.deletionTimestamp && existingGrace !== undefined && existingGrace <= grace) return latest;
      const next = deepCopy(latest);
      if (finalizers) next.metadata.finalizers = finalizers;
      // A shorter period moves the deadline back by the difference; a first deletion counts from now.
      const from = latest.metadata.deletionTimestamp && existingGrace !== undefined
        ? Date.parse(latest.metadata.deletionTimestamp) - existingGrace * 1000
        : ctx.now.getTime();
      next.metadata.deletionTimestamp = rfc3339(new Date(from + grace * 1000));
      next.metadata.deletionGracePeriodSeconds = grace;
      this.strategy.prepareForDelete?.(next, ctx);
      return next;
    });
    if (grace === 0 && this.readyToRemove(marked)) {
      return { object: await this.removeNow(key, marked), deletedImmediately: true };
    }
    return { object: marked, deletedImmediately: false };
  }

  private readyToRemove(object: KubeObject): boolean {
    return (object.metadata.finalizers ?? []).length === 0 && !(this.strategy.pendingFinalization?.(object) ?? false);
  }

  private async removeNow(key: string, current: KubeObject, preconditions?: Preconditions): Promise<KubeObject> {
    try {
      return await this.storage.delete(key, { preconditions: preconditions ?? { uid: current.metadata.uid } });
    } catch (err) {
      if (err instanceof KeyNotFoundError) throw notFound(this.groupResource, current.metadata.name ?? '');
      if (err instanceof PreconditionError) throw storagePreconditionConflict(this.groupResource, current.metadata.name ?? '', err);
      throw err;
    }
  }

  /** Body checks shared by create, update and patch: kind/apiVersion, namespace, schema. */
  private checkIncoming(body: KubeObject, namespace: string, options: Pick<WriteOptions, 'fieldValidation' | 'internal'>): string[] {
    return checkIncomingBody(this.strategy, this.apiVersion, body, namespace, options.fieldValidation, options.internal ?? false);
  }

  private admissionAttributes(operation: AdmissionOperation, ctx: RequestContext, name: string, subresource: Subresource, object: KubeObject | undefined, oldObject: KubeObject | undefined, dryRun: boolean | undefined): AdmissionAttributes {
    return {
      operation, group: this.strategy.group, version: this.strategy.version, kind: this.strategy.kind,
      resource: this.strategy.resource, subresource, namespace: ctx.namespace, name, object, oldObject,
      user: ctx.user, dryRun: dryRun ?? false, warnings: [], auditAnnotations: ctx.auditAnnotations,
    };
  }

  /**
   * Mutating admission. Defaults (and, for custom resources, pruning) are applied again afterwards,
   * as kube-apiserver decodes (and so prunes and defaults) an object a mutating webhook has patched.
   */
  private async mutate(attributes: AdmissionAttributes): Promise<void> {
    if (!this.admission) return;
    await this.admission.admit(attributes);
    if (!attributes.object) return;
    // What a mutating webhook added outside a custom resource's schema is pruned silently.
    this.strategy.pruneUnknownFields?.(attributes.object);
    this.strategy.applyDefaults?.(attributes.object);
  }

  private validateCreate(object: KubeObject, ctx: RequestContext): void {
    const errors = [
      ...validateObjectMeta(object.metadata, this.strategy.namespaced, this.strategy.validateName ?? nameIsDNSSubdomain),
      ...(this.strategy.validate?.(object, ctx) ?? []),
    ];
    if (errors.length > 0) throw invalid(this.strategy.kind, this.strategy.group, object.metadata.name ?? '', errors);
  }

  /** The NamespaceLifecycle admission plugin: 404 for a missing namespace, 403 for one being terminated. */
  private async requireNamespaceForCreate(namespace: string, name: string): Promise<void> {
    if (!this.strategy.namespaced || !this.namespaces) return;
    const phase = await this.namespaces.phase(namespace);
    if (phase === undefined) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (phase === 'Terminating') {
      throw forbidden(`${qualifiedResource(this.groupResource)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, this.groupResource, name);
    }
  }

  private keepAllButStatus(object: KubeObject, current: KubeObject): void {
    const status = object.status;
    const metadata = object.metadata;
    for (const field of Object.keys(object)) delete object[field];
    // managedFields come from the request (or stay the stored ones, which are never modified in
    // place): copying the stored entries only to drop the copy would be most of the metadata's cost.
    const managedFields = metadata.managedFields ?? current.metadata.managedFields;
    const hasManagedFields = Object.prototype.hasOwnProperty.call(current.metadata, 'managedFields');
    Object.assign(object, deepCopy(hasManagedFields ? { ...current, metadata: { ...current.metadata, managedFields: undefined } } : current));
    if (status === undefined) delete object.status;
    else object.status = status;
    // Labels and annotations may not change through /status either (only status does), unless the kind's status
    // strategy keeps them from the request.
    object.metadata = { ...object.metadata, managedFields };
    for (const field of this.strategy.statusUpdateMetadata ?? []) {
      if (metadata[field] === undefined) delete object.metadata[field];
      else object.metadata[field] = deepCopy(metadata[field]);
    }
  }

  private trackFields(old: KubeObject | undefined, updated: KubeObject, manager: string | undefined, now: Date, subresource: Subresource): KubeObject {
    if (!manager) return updated;
    return trackUpdateManagedFields({ old, updated, manager, schema: this.schema(), apiVersion: this.apiVersion, now, subresource: subresource || undefined });
  }

  /** Resolved once per store: every tracked write asks for it. */
  private resolvedSchema: SchemaNode | undefined;

  private schema(): SchemaNode {
    this.resolvedSchema ??= this.strategy.schema ?? schemaForKind({ group: this.strategy.group, version: this.strategy.version, kind: this.strategy.kind });
    if (!this.resolvedSchema) throw new StatusError(500, 'InternalError', `no schema for ${this.strategy.kind}`);
    return this.resolvedSchema;
  }
}

/**
 * ObjectMeta's finalizers and ownerReferences are `omitempty` lists: removing the last one (a patch, an update
 * with `[]`) leaves no field, as the Go types serialize it.
 */
function dropEmptyMetadataLists(object: KubeObject): void {
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (!metadata) return;
  for (const field of ['finalizers', 'ownerReferences']) {
    if (Array.isArray(metadata[field]) && (metadata[field] as unknown[]).length === 0) delete metadata[field];
  }
}
