// The meta.k8s.io/v1 options structs a request's query string decodes into, field by field as the
// generated url.Values → v1 conversions (zz_generated.conversion.go of apimachinery's meta/v1):
// ListOptions, GetOptions, CreateOptions, UpdateOptions, PatchOptions, DeleteOptions and
// TableOptions. Decoding only converts; the validations that follow (ValidateListOptions,
// ValidateCreateOptions, ...) belong to the handlers and the registry, as upstream.

import {
  boolParam, int64Param, optionalBoolParam, stringParam, stringsParam, type RawQuery,
} from './query-values.ts';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  watch: boolean;
  allowWatchBookmarks: boolean;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  timeoutSeconds?: number;
  limit?: number;
  continue?: string;
  sendInitialEvents?: boolean;
}

export interface GetOptions {
  resourceVersion?: string;
}

export interface CreateOptions {
  dryRun: string[];
  fieldManager?: string;
  fieldValidation?: string;
}

export type UpdateOptions = CreateOptions;

export interface PatchOptions extends CreateOptions {
  force?: boolean;
}

/** The query-string half of DeleteOptions (preconditions come only in a body). */
export interface DeleteOptionsQuery {
  gracePeriodSeconds?: number;
  orphanDependents?: boolean;
  propagationPolicy?: string;
  dryRun: string[];
}

export interface TableOptions {
  includeObject?: string;
}

export function decodeListOptions(query: RawQuery): ListOptions {
  return {
    labelSelector: stringParam(query, 'labelSelector'),
    fieldSelector: stringParam(query, 'fieldSelector'),
    watch: boolParam(query, 'watch'),
    allowWatchBookmarks: boolParam(query, 'allowWatchBookmarks'),
    resourceVersion: stringParam(query, 'resourceVersion'),
    resourceVersionMatch: stringParam(query, 'resourceVersionMatch'),
    timeoutSeconds: int64Param(query, 'timeoutSeconds'),
    limit: int64Param(query, 'limit'),
    continue: stringParam(query, 'continue'),
    sendInitialEvents: optionalBoolParam(query, 'sendInitialEvents'),
  };
}

/**
 * Whether a collection GET is a watch, as RequestInfoFactory decides it: when the whole ListOptions
 * does not decode, only the `watch` parameter counts (the handler then reports the bad value).
 */
export function isWatchRequest(query: RawQuery): boolean {
  return boolParam(query, 'watch');
}

export function decodeGetOptions(query: RawQuery): GetOptions {
  return { resourceVersion: stringParam(query, 'resourceVersion') };
}

export function decodeCreateOptions(query: RawQuery): CreateOptions {
  return {
    dryRun: stringsParam(query, 'dryRun'),
    fieldManager: stringParam(query, 'fieldManager'),
    fieldValidation: stringParam(query, 'fieldValidation'),
  };
}

export function decodeUpdateOptions(query: RawQuery): UpdateOptions {
  return decodeCreateOptions(query);
}

export function decodePatchOptions(query: RawQuery): PatchOptions {
  return { ...decodeCreateOptions(query), force: optionalBoolParam(query, 'force') };
}

export function decodeDeleteOptionsQuery(query: RawQuery): DeleteOptionsQuery {
  return {
    gracePeriodSeconds: int64Param(query, 'gracePeriodSeconds'),
    orphanDependents: optionalBoolParam(query, 'orphanDependents'),
    propagationPolicy: stringParam(query, 'propagationPolicy'),
    dryRun: stringsParam(query, 'dryRun'),
  };
}

export function decodeTableOptions(query: RawQuery): TableOptions {
  return { includeObject: stringParam(query, 'includeObject') };
}
