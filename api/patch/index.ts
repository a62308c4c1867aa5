// The patch formats the API server accepts and the field ownership bookkeeping around writes.
// All functions are pure: they never mutate their inputs and return a new object.

export type PatchType =
  | 'application/json-patch+json'
  | 'application/merge-patch+json'
  | 'application/strategic-merge-patch+json'
  | 'application/apply-patch+yaml';

export { applyJsonPatch } from './json-patch.ts';
export { applyMergePatch } from './merge-patch.ts';
export { applyStrategicMergePatch } from './strategic-merge.ts';
export { serverSideApply, trackUpdateManagedFields } from './server-side-apply.ts';
export type { ServerSideApplyArgs, TrackUpdateArgs } from './server-side-apply.ts';
