// A resource is a strategy object: everything the generic registry (api/registry/store.ts) needs
// to know about one kind. Adding a resource means writing one of these in api/resources/ and
// listing it in api/resources/index.ts. Modelled on k8s.io/apiserver/pkg/registry/rest
// (RESTCreateStrategy, RESTUpdateStrategy, RESTDeleteStrategy, TableConvertor).

import type { FieldError } from './errors.ts';
import type { KubeObject } from './object.ts';
import type { UserInfo } from '../auth/user.ts';
import type { SchemaNode } from './openapi/schema-node.ts';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface RequestContext {
  user: UserInfo;
  /** The namespace from the URL ('' for cluster-scoped requests). */
  namespace: string;
  now: Date;
  /** Receives admission's audit annotations (webhooks, policies) for the request's audit event. */
  auditAnnotations?: Record<string, string>;
}

export interface TableColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export type TableCell = string | number | boolean | null;

export interface TableConvertor {
  columns: TableColumnDefinition[];
  /** One row's cells, in column order. `now` is used for ages. */
  cells(object: KubeObject, now: Date): TableCell[];
  /** The order of a list's rows when the printer sorts them (FlowSchemas by matching precedence); omit to keep the list's. */
  order?(objects: KubeObject[]): KubeObject[];
}

/** A subresource that is not the generic `status`: e.g. pods/binding, pods/log. */
export interface SubresourceDefinition {
  name: string;
  /** The kind returned / accepted (discovery `responseKind`). */
  kind: string;
  group?: string;
  /** The version of that kind when it differs from the parent's (autoscaling/v1 Scale). */
  version?: string;
  verbs: Verb[];
}

/**
 * A subresource that, like status, writes part of the object through the generic store
 * (certificatesigningrequests/approval): everything but status is kept from the stored object,
 * then these hooks adjust and check the result.
 */
export interface StatusLikeSubresource {
  prepareForUpdate?(object: KubeObject, old: KubeObject, ctx: RequestContext): void;
  validateUpdate?(object: KubeObject, old: KubeObject, ctx: RequestContext): FieldError[];
}

export interface ResourceStrategy {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Plural, lower case: the URL segment. */
  resource: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  verbs: Verb[];
  /** Storage key segment: `/registry/<storageResource>/...` (kube-apiserver's layout, e.g. `minions` is not used; we use the resource). */
  storageResource: string;
  /** Whether a `status` subresource exists; then the main resource ignores status and /status ignores everything else. */
  hasStatus: boolean;
  /** Subresources besides status (e.g. binding, log). Their handlers live outside the generic store. */
  subresources: SubresourceDefinition[];
  /** Of those, the ones served by the generic store as status is (get, update, patch), by name. */
  statusLikeSubresources?: Record<string, StatusLikeSubresource>;
  /** Whether spec changes bump metadata.generation (true for kinds with a spec). */
  tracksGeneration: boolean;
  /**
   * Properties the OpenAPI schema lists as required that the Go type holds as a value (a struct or a
   * string, not a pointer): an absent one decodes as its zero value, so the request is not refused there
   * and the strategy's validation speaks (NetworkPolicy `spec.podSelector` is `{}`). List indices are `[*]`.
   */
  zeroValueRequiredFields?: string[];

  /** Called on create before defaulting: reset fields the client may not set (e.g. status of a pod). */
  prepareForCreate?(object: KubeObject, ctx: RequestContext): void;
  /** Called on update of the main resource: `object` is the new object, `old` the stored one. */
  prepareForUpdate?(object: KubeObject, old: KubeObject, ctx: RequestContext): void;
  /**
   * Metadata a /status write may change besides status (upstream's status strategies differ per kind: a
   * Service's keeps the request's whole ObjectMeta). Default: none, everything but status comes from old.
   */
  statusUpdateMetadata?: ('labels' | 'annotations')[];
  /** Called on update of /status: default copies everything but status from old (done by the store). */
  prepareForStatusUpdate?(object: KubeObject, old: KubeObject, ctx: RequestContext): void;
  /** Fill defaults as kube-apiserver's defaulting functions do. */
  applyDefaults?(object: KubeObject): void;
  /** Kind-specific validation beyond the OpenAPI schema (names, immutability, enums). */
  validate?(object: KubeObject, ctx: RequestContext): FieldError[];
  validateUpdate?(object: KubeObject, old: KubeObject, ctx: RequestContext): FieldError[];
  validateStatusUpdate?(object: KubeObject, old: KubeObject, ctx: RequestContext): FieldError[];

  /**
   * Field-selector fields beyond metadata.name and metadata.namespace, which the store always
   * provides: e.g. `spec.nodeName`, `status.phase`. Values are strings ('' when absent).
   */
  selectableFields?(object: KubeObject): Record<string, string>;
  /** The keys selectableFields returns: any other field in a fieldSelector is a 400. */
  selectableFieldNames?: string[];

  /**
   * Graceful deletion (RESTGracefulDeleteStrategy): the grace period to use for this object, given
   * the one requested (undefined if none). 0 means delete at once. Omit for immediate deletion.
   */
  deletionGracePeriodSeconds?(object: KubeObject, requested: number | undefined): number;

  /**
   * Validates metadata.name (ValidateNameFunc): returns problem descriptions, empty when valid.
   * Omit for the default, a DNS-1123 subdomain.
   */
  validateName?(name: string, prefix: boolean): string[];

  /** Called when an object is marked for (graceful or finalizer-held) deletion, e.g. namespace phase Terminating. */
  prepareForDelete?(object: KubeObject, ctx: RequestContext): void;

  /** Whether something besides metadata.finalizers keeps a deleted object (namespaces: spec.finalizers). */
  pendingFinalization?(object: KubeObject): boolean;
  /**
   * Set when deleting again an object that awaits finalization is a 409 Conflict with this reason
   * (namespaces: "The system is ensuring all content is removed from this namespace. ...").
   */
  finalizationPendingMessage?: string;

  /**
   * DefaultGarbageCollectionPolicy: what a DELETE without propagationPolicy does to dependents.
   * Background (the default) unless the kind keeps its old API's orphaning (batch/v1 Jobs).
   */
  defaultGarbageCollectionPolicy?: 'Orphan' | 'Background';

  /**
   * Store.ReturnDeletedObject: a DELETE that removes the object at once answers with the object
   * (pods, namespaces) instead of a Success Status naming it.
   */
  returnDeletedObject?: boolean;

  table: TableConvertor;

  /**
   * Set when the resource is stored in another form (events.k8s.io/v1 over core/v1 events): the
   * registry converts every object at the storage boundary.
   */
  storageConversion?: { toStorage(object: KubeObject): KubeObject; fromStorage(object: KubeObject): KubeObject };
  /**
   * The schema server-side apply and field tracking walk, for kinds the served OpenAPI documents
   * do not define (custom resources); built-in kinds leave it out and are looked up by GVK.
   */
  schema?: SchemaNode;
  /**
   * Pruning for kinds with their own schema (custom resources): removes undeclared fields from
   * a request body and returns their paths, which fieldValidation turns into errors or warnings.
   * Built-in kinds leave it out and are checked against the OpenAPI documents.
   */
  pruneUnknownFields?(object: KubeObject): string[];
  /**
   * Defaulting when an object is read (custom resources: a `default:` added to the schema after the
   * object was stored shows on reads): a defaulted copy, or the object itself when nothing changes.
   */
  defaultOnRead?(object: KubeObject): KubeObject;
  /**
   * Converts stored objects written through other versions to this version (custom resources with
   * conversion strategy Webhook: a ConversionReview). Objects already in this version are returned as they are.
   */
  convert?(objects: KubeObject[]): Promise<KubeObject[]>;
  /** False for custom resources: a strategic merge patch is a 415, as upstream. */
  acceptsStrategicMergePatch?: boolean;
}

export function groupVersion(strategy: Pick<ResourceStrategy, 'group' | 'version'>): string {
  return strategy.group ? `${strategy.group}/${strategy.version}` : strategy.version;
}
