// core/v1 Event. Validation is upstream's legacyValidateEvent (the only check for v1 requests),
// selectable fields are event.ToSelectableFields, the table is printEvent.

import { invalidField, requiredField, type FieldError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import type { ResourceStrategy, TableCell } from '../resource.ts';
import { isDNS1123Subdomain, isQualifiedName, nameIsPathSegment } from '../validation/names.ts';
import { age, column, DESCRIPTIONS, num, obj, str } from './printing.ts';

const REPORTING_INSTANCE_LENGTH_LIMIT = 128;
const ACTION_LENGTH_LIMIT = 128;
const REASON_LENGTH_LIMIT = 128;
const NOTE_LENGTH_LIMIT = 1024;

export function validateEvent(event: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = event.metadata.namespace ?? '';
  const involvedNamespace = str(event, 'involvedObject', 'namespace');
  const mismatch = () => invalidField('involvedObject.namespace', involvedNamespace, 'does not match event.namespace');
  if (!str(event, 'eventTime')) {
    // Old-style events: the namespace must agree with the involved object's ("default" tolerated for old clients).
    if (!involvedNamespace) {
      if (namespace !== '' && namespace !== 'default') errs.push(mismatch());
    } else if (namespace !== involvedNamespace) {
      errs.push(mismatch());
    }
  } else {
    if (!involvedNamespace && namespace !== 'default' && namespace !== 'kube-system') errs.push(mismatch());
    const controller = str(event, 'reportingComponent');
    if (!controller) errs.push(requiredField('reportingComponent'));
    for (const msg of isQualifiedName(controller)) errs.push(invalidField('reportingComponent', controller, msg));
    const instance = str(event, 'reportingInstance');
    if (!instance) errs.push(requiredField('reportingInstance'));
    if (instance.length > REPORTING_INSTANCE_LENGTH_LIMIT) {
      errs.push(invalidField('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LENGTH_LIMIT} characters`));
    }
    const action = str(event, 'action');
    if (!action) errs.push(requiredField('action'));
    if (action.length > ACTION_LENGTH_LIMIT) errs.push(invalidField('action', '', `can have at most ${ACTION_LENGTH_LIMIT} characters`));
    const reason = str(event, 'reason');
    if (!reason) errs.push(requiredField('reason'));
    if (reason.length > REASON_LENGTH_LIMIT) errs.push(invalidField('reason', '', `can have at most ${REASON_LENGTH_LIMIT} characters`));
    if (str(event, 'message').length > NOTE_LENGTH_LIMIT) {
      errs.push(invalidField('message', '', `can have at most ${NOTE_LENGTH_LIMIT} characters`));
    }
  }
  for (const msg of isDNS1123Subdomain(namespace)) errs.push(invalidField('namespace', namespace, msg));
  return errs;
}

export const EVENT_SELECTABLE_FIELD_NAMES = [
  'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
  'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
  'reason', 'reportingComponent', 'source', 'type',
];

export function eventSelectableFields(event: KubeObject): Record<string, string> {
  const involved = (key: string) => str(event, 'involvedObject', key);
  return {
    'involvedObject.kind': involved('kind'),
    'involvedObject.namespace': involved('namespace'),
    'involvedObject.name': involved('name'),
    'involvedObject.uid': involved('uid'),
    'involvedObject.apiVersion': involved('apiVersion'),
    'involvedObject.resourceVersion': involved('resourceVersion'),
    'involvedObject.fieldPath': involved('fieldPath'),
    reason: str(event, 'reason'),
    reportingComponent: str(event, 'reportingComponent'),
    source: str(event, 'source', 'component') || str(event, 'reportingComponent'),
    type: str(event, 'type'),
  };
}

function eventCells(event: KubeObject, now: Date): TableCell[] {
  const first = str(event, 'firstTimestamp') ? age(str(event, 'firstTimestamp'), now) : age(str(event, 'eventTime'), now);
  let last = str(event, 'lastTimestamp') ? age(str(event, 'lastTimestamp'), now) : first;
  let count = num(event, 'count') ?? 0;
  const series = obj(event, 'series');
  if (series) {
    last = age(str(series, 'lastObservedTime'), now);
    count = num(series, 'count') ?? 0;
  } else if (count === 0) {
    count = 1; // singleton events from the events.k8s.io API carry no count
  }
  const kind = str(event, 'involvedObject', 'kind').toLowerCase();
  const name = str(event, 'involvedObject', 'name');
  const component = str(event, 'source', 'component') || str(event, 'reportingComponent');
  const instance = str(event, 'source', 'host') || str(event, 'reportingInstance');
  return [
    last, str(event, 'type'), str(event, 'reason'), name ? `${kind}/${name}` : kind,
    str(event, 'involvedObject', 'fieldPath'), instance ? `${component}, ${instance}` : component,
    str(event, 'message').trim(), first, count, event.metadata.name ?? '',
  ];
}

export const eventStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'Event',
  listKind: 'EventList',
  resource: 'events',
  singular: 'event',
  shortNames: ['ev'],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'events',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  validateName: nameIsPathSegment,
  validate: (event) => validateEvent(event),
  selectableFieldNames: EVENT_SELECTABLE_FIELD_NAMES,
  validateUpdate: (event) => validateEvent(event),
  selectableFields: eventSelectableFields,
  table: {
    columns: [
      column('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
      column('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
      column('Reason', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
      column('Object', 'The object that this event is about.'),
      column('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.', 1),
      column('Source', 'The component reporting this event. Should be a short machine understandable string.', 1),
      column('Message', 'A human-readable description of the status of this operation.'),
      column('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
      column('Count', 'The number of times this event has occurred.', 1),
      column('Name', DESCRIPTIONS.name, 1, 'name'),
    ],
    cells: eventCells,
  },
};
