// ListOptions validation as kube-apiserver runs it before a LIST or WATCH reaches storage
// (k8s.io/apimachinery/pkg/apis/meta/internalversion/validation): every problem is collected and
// the request fails with one 422 `ListOptions.meta.k8s.io "" is invalid: ...`.

import { forbiddenField, invalid, notSupportedField, type FieldError } from '../errors.ts';

export interface ListOptionsToValidate {
  resourceVersion?: string;
  resourceVersionMatch?: string;
  continue?: string;
  sendInitialEvents?: boolean;
}

function listErrors(options: ListOptionsToValidate): FieldError[] {
  const errs: FieldError[] = [];
  const match = options.resourceVersionMatch;
  if (match) {
    if (!options.resourceVersion) errs.push(forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (options.continue) errs.push(forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== 'Exact' && match !== 'NotOlderThan') errs.push(notSupportedField('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    if (match === 'Exact' && options.resourceVersion === '0') {
      errs.push(forbiddenField('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
    }
  }
  if (options.sendInitialEvents !== undefined) errs.push(forbiddenField('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  return errs;
}

/** The WatchList feature (sendInitialEvents) is on by default in 1.32, so it is never refused as disabled. */
function watchErrors(options: ListOptionsToValidate): FieldError[] {
  const errs: FieldError[] = [];
  const match = options.resourceVersionMatch;
  if (options.sendInitialEvents !== undefined && match !== 'NotOlderThan') {
    errs.push(forbiddenField('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
  }
  if (match) {
    if (options.sendInitialEvents === undefined) {
      errs.push(forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
    }
    if (match !== 'NotOlderThan') errs.push(notSupportedField('resourceVersionMatch', match, ['NotOlderThan']));
    if (options.continue) errs.push(forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
  }
  return errs;
}

export function validateListOptions(options: ListOptionsToValidate, watch: boolean): void {
  const errs = watch ? watchErrors(options) : listErrors(options);
  if (errs.length > 0) throw invalid('ListOptions', 'meta.k8s.io', '', errs);
}
