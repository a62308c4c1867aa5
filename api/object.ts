// The shapes every Kubernetes object shares. Objects travel through the server as plain JSON
// values; only metadata is typed, because the generic registry is the only code that reads it
// without knowing the kind. Resource strategies narrow further where they need to.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue | undefined };

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: JsonObject;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: JsonValue | undefined | Record<string, string> | OwnerReference[] | ManagedFieldsEntry[] | string[];
}

/** Any Kubernetes object as stored and served: apiVersion/kind/metadata plus kind-specific fields. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface KubeList {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: KubeObject[];
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Request data names its own keys, and some of them name what every object inherits: `__proto__`
// (an accessor that swaps the object's prototype), `constructor` (leads to Object and its prototype),
// `toString` ... Code that walks decoded JSON by a key taken from that JSON must read only own
// members and define, never assign, the `__proto__` member: otherwise a patch such as
// {"metadata":{"__proto__":{"groups":[...]}}} merges into Object.prototype (issue 13).

/**
 * A request value in a message. String() of an object calls its `toString` member, which request
 * data can set to anything (`{"toString": 0}` made String() throw a TypeError, answered 500).
 */
export function displayValue(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return Array.isArray(value) ? '[...]' : '{...}';
  }
}

/** The value of an own member, never one found through the prototype chain. */
export function ownValue(map: object, key: string): unknown {
  return Object.hasOwn(map, key) ? (map as Record<string, unknown>)[key] : undefined;
}

/** Sets an own data member; `__proto__` too, as JSON.parse makes it, instead of changing the prototype. */
export function setOwnValue(map: object, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else (map as Record<string, unknown>)[key] = value;
}

/**
 * Deep copy of a JSON value. Objects handed out by storage are shared and must not be mutated.
 * Plain objects and arrays are copied by hand (several times faster than structuredClone, which
 * serialises and deserialises); anything else (a Date, a Buffer) still goes through structuredClone.
 */
export function deepCopy<T>(value: T): T {
  return copyValue(value) as T;
}

function copyValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = copyValue(value[i]);
    return copy;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const source = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    // JSON.parse makes "__proto__" an own key; assigning it would set the copy's prototype instead.
    setOwnValue(copy, key, copyValue(source[key]));
  }
  return copy;
}
