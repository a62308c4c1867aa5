// A snapshot of the built-in prototypes request data could pollute: their own property names and
// what each holds, and their own prototypes. Two snapshots taken around hostile requests must be equal.

export type IntrinsicsSnapshot = Record<string, { keys: string[]; values: unknown[]; proto: unknown }>;

const WATCHED: Record<string, object> = {
  Object: Object.prototype,
  Array: Array.prototype,
  Function: Function.prototype,
  String: String.prototype,
  Number: Number.prototype,
  Boolean: Boolean.prototype,
  ObjectConstructor: Object,
};

export function intrinsicsSnapshot(): IntrinsicsSnapshot {
  const snapshot: IntrinsicsSnapshot = {};
  for (const [name, target] of Object.entries(WATCHED)) {
    const keys = Reflect.ownKeys(target).map(String).sort();
    const values = keys.map((key) => {
      const descriptor = Object.getOwnPropertyDescriptor(target, key) ?? Object.getOwnPropertyDescriptor(target, Symbol.for(key));
      return descriptor && 'value' in descriptor ? descriptor.value : descriptor?.get;
    });
    snapshot[name] = { keys, values, proto: Object.getPrototypeOf(target) };
  }
  return snapshot;
}
