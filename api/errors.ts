// metav1.Status errors, worded as kube-apiserver words them (k8s.io/apimachinery/pkg/api/errors).
// Handlers and the registry throw StatusError; one HTTP middleware encodes it.

/** '' is metav1.StatusReasonUnknown: left out of the encoded Status. */
export type StatusReason =
  | '' | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid' | 'BadRequest' | 'MethodNotAllowed'
  | 'UnsupportedMediaType' | 'NotAcceptable' | 'RequestEntityTooLarge' | 'Expired' | 'Gone'
  | 'Forbidden' | 'Unauthorized' | 'InternalError' | 'Timeout' | 'TooManyRequests' | 'ServiceUnavailable';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never> | { resourceVersion?: string; continue?: string };
  status: 'Failure' | 'Success';
  message?: string;
  reason?: StatusReason | '';
  details?: StatusDetails;
  code: number;
}

/** Identifies a resource in messages: `pods` or `roles.rbac.authorization.k8s.io`. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export class StatusError extends Error {
  /** ListMeta.continue of the Status (an expired continue token's replacement). */
  listContinue?: string;

  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'StatusError';
  }

  toStatus(): Status {
    // Key order as kube-apiserver encodes a Status; an empty reason and absent details are left out.
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: this.listContinue ? { continue: this.listContinue } : {},
      status: 'Failure',
      message: this.message,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export function notFound(gr: GroupResource, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, {
    name, group: gr.group || undefined, kind: gr.resource,
  });
}

/** 404 for a path that is not served at all. */
export function pathNotFound(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, {
    name, group: gr.group || undefined, kind: gr.resource,
  });
}

export const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(gr: GroupResource, name: string, why: string): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`, {
    name, group: gr.group || undefined, kind: gr.resource,
  });
}

/** One field problem, as field.Error prints it: `spec.containers[0].name: Required value`. */
export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueDuplicate'
    | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTypeInvalid' | 'FieldValueTooMany' | 'FieldValueNotFound';
  field: string;
  /** The full detail text after `<field>: `, e.g. `Required value` or `Invalid value: "x": must be ...`. */
  message: string;
}

export function requiredField(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' };
}

export function invalidField(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, message: `Invalid value: ${formatFieldValue(value)}: ${detail}` };
}

export function notSupportedField(field: string, value: unknown, valid: string[]): FieldError {
  const quoted = valid.map((v) => `"${v}"`).join(', ');
  return { type: 'FieldValueNotSupported', field, message: `Unsupported value: ${formatFieldValue(value)}: supported values: ${quoted}` };
}

export function forbiddenField(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` };
}

export function duplicateField(field: string, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field, message: `Duplicate value: ${formatFieldValue(value)}` };
}

export function typeInvalidField(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueTypeInvalid', field, message: `Invalid value: ${formatFieldValue(value)}: ${detail}` };
}

function formatFieldValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * 422 Invalid: `Pod "nginx" is invalid: [spec.containers[0].name: Required value, ...]`
 * (one error is printed without brackets), with one cause per field error.
 */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): StatusError {
  // field.ErrorList.ToAggregate prints each distinct error once (causes keep them all).
  const parts = [...new Set(errors.map((e) => `${e.field}: ${e.message}`))];
  const joined = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  // errors.NewInvalid prints the GroupKind: `Lease.coordination.k8s.io "x" is invalid: ...`.
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${joined}`, {
    name: name || undefined, group: group || undefined, kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

/**
 * 405 for a method the path has no route for (go-restful's answer, as the apiserver's service error
 * handler words it through NewGenericServerResponse).
 */
export function methodNotAllowed(): StatusError {
  return new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function methodNotSupported(gr: GroupResource, verb: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${qualifiedResource(gr)}"`, {
    group: gr.group || undefined, kind: gr.resource,
  });
}

export function unsupportedMediaType(accepted: string[]): StatusError {
  return new StatusError(415, 'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

export function notAcceptable(accepted: string): StatusError {
  return new StatusError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted}`);
}

export function requestEntityTooLarge(limitBytes: number): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

/** 410 for a resourceVersion the watch cache or storage no longer holds. */
export function resourceExpired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function forbidden(message: string, gr?: GroupResource, name?: string): StatusError {
  return new StatusError(403, 'Forbidden', message, gr ? { name: name || undefined, group: gr.group || undefined, kind: gr.resource } : {});
}

export function unauthorized(message = 'Unauthorized'): StatusError {
  return new StatusError(401, 'Unauthorized', message);
}

export function internalError(err: unknown): StatusError {
  const text = err instanceof Error ? err.message : String(err);
  return new StatusError(500, 'InternalError', `Internal error occurred: ${text}`, { causes: [{ message: text }] });
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, 'ServiceUnavailable', message);
}
