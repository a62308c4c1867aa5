// events.k8s.io/v1 Event, served over the same storage as core/v1 events (as kube-apiserver stores
// both versions as one internal Event). Objects are stored in their core/v1 form and converted at
// the storage boundary with upstream's field mapping (pkg/apis/events/v1 conversion):
//   regarding ↔ involvedObject, note ↔ message, reportingController ↔ reportingComponent,
//   deprecatedSource ↔ source, deprecatedFirstTimestamp ↔ firstTimestamp,
//   deprecatedLastTimestamp ↔ lastTimestamp, deprecatedCount ↔ count;
//   related, eventTime, series, action, reason, reportingInstance and type keep their names.
// Validation, field selectors and the table are the core Event's, run on the core form.

import type { FieldError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { EVENT_SELECTABLE_FIELD_NAMES, eventSelectableFields, eventStrategy, validateEvent } from './events.ts';

/** [events.k8s.io/v1 name, core/v1 name] for every field whose name differs. */
const RENAMED: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(object: KubeObject, pairs: [string, string][], apiVersion: string): KubeObject {
  const out: Record<string, unknown> = {};
  const map = new Map(pairs);
  for (const [key, value] of Object.entries(object)) out[map.get(key) ?? key] = value;
  out.apiVersion = apiVersion;
  out.kind = 'Event';
  return out as KubeObject;
}

/** events.k8s.io/v1 → core/v1 (the stored form). */
export function eventV1ToCore(event: KubeObject): KubeObject {
  return rename(event, RENAMED, 'v1');
}

/** core/v1 → events.k8s.io/v1. */
export function eventCoreToV1(event: KubeObject): KubeObject {
  return rename(event, RENAMED.map(([v1, core]) => [core, v1]), 'events.k8s.io/v1');
}

/** Core validation messages name core fields: report them under the events.k8s.io/v1 names. */
function v1FieldErrors(errors: FieldError[]): FieldError[] {
  return errors.map((error) => {
    for (const [v1, core] of RENAMED) {
      if (error.field === core || error.field.startsWith(`${core}.`)) return { ...error, field: v1 + error.field.slice(core.length) };
    }
    return error;
  });
}

export const eventV1Strategy: ResourceStrategy = {
  ...eventStrategy,
  group: 'events.k8s.io',
  version: 'v1',
  storageResource: 'events',
  storageConversion: { toStorage: eventV1ToCore, fromStorage: eventCoreToV1 },
  validate: (event) => v1FieldErrors(validateEvent(eventV1ToCore(event))),
  validateUpdate: (event) => v1FieldErrors(validateEvent(eventV1ToCore(event))),
  selectableFieldNames: EVENT_SELECTABLE_FIELD_NAMES,
  selectableFields: (event) => eventSelectableFields(eventV1ToCore(event)),
  table: { columns: eventStrategy.table.columns, cells: (event, now) => eventStrategy.table.cells(eventV1ToCore(event), now) },
};
