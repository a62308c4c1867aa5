// Validation of the query options of writes, as kube-apiserver's handlers run it before touching
// the object (ValidateCreateOptions / ValidateUpdateOptions / ValidatePatchOptions /
// ValidateDeleteOptions): failures are a 422 naming the options kind, e.g.
// `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`.

import { forbiddenField, invalid, requiredField, type FieldError } from '../api/errors.ts';
import type { CreateOptions, PatchOptions, UpdateOptions } from '../api/options/index.ts';

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions';

/** ValidateDryRun: only "All"; field.NotSupported prints the []string with Go's %#v. */
function dryRunErrors(values: unknown[]): FieldError[] {
  if (values.every((value) => value === 'All')) return [];
  const printed = `[]string{${values.map((value) => JSON.stringify(String(value))).join(', ')}}`;
  return [{ type: 'FieldValueNotSupported', field: 'dryRun', message: `Unsupported value: ${printed}: supported values: "All"` }];
}

/** ValidateFieldValidation: the allowed set, printed sorted as sets.List does. */
function fieldValidationErrors(value: string | undefined): FieldError[] {
  if (value === undefined || ['', 'Ignore', 'Strict', 'Warn'].includes(value)) return [];
  return [{ type: 'FieldValueNotSupported', field: 'fieldValidation', message: `Unsupported value: ${JSON.stringify(value)}: supported values: "", "Ignore", "Strict", "Warn"` }];
}

function fail(kind: OptionsKind, errors: FieldError[]): void {
  if (errors.length > 0) throw invalid(kind, 'meta.k8s.io', '', errors);
}

/** Returns whether the request is a dry run; throws 422 for values other than "All". */
export function parseDryRun(values: unknown[], kind: OptionsKind): boolean {
  fail(kind, dryRunErrors(values));
  return values.length > 0;
}

/** ValidateCreateOptions / ValidateUpdateOptions: dryRun and fieldValidation. Returns whether the request is a dry run. */
export function validateWriteOptions(options: CreateOptions | UpdateOptions, kind: 'CreateOptions' | 'UpdateOptions'): boolean {
  fail(kind, [...dryRunErrors(options.dryRun), ...fieldValidationErrors(options.fieldValidation)]);
  return options.dryRun.length > 0;
}

/**
 * ValidatePatchOptions: `force` only with apply, and apply needs an explicit fieldManager (the
 * User-Agent fallback other writes get does not count). Returns whether the request is a dry run.
 */
export function validatePatchOptions(options: PatchOptions, apply: boolean): boolean {
  const errors: FieldError[] = [];
  if (!apply && options.force !== undefined) errors.push(forbiddenField('force', 'may not be specified for non-apply patch'));
  if (apply && !options.fieldManager) errors.push(requiredField('fieldManager', 'is required for apply patch'));
  errors.push(...dryRunErrors(options.dryRun), ...fieldValidationErrors(options.fieldValidation));
  fail('PatchOptions', errors);
  return options.dryRun.length > 0;
}
