// The second wall against prototype pollution (issue 13): once the server's modules are loaded,
// the prototypes every object and array inherits from are frozen, so even a code path that still
// merged request data into `Object.prototype` would fail (a TypeError answered as an error)
// instead of handing every later request the injected members. The first wall is the decoders
// and patch engines themselves, which only follow and define own members (api/object.ts).
//
// A plain `Object.freeze(Object.prototype)` has a well-known cost: the "override mistake".
// Assigning `obj.toString = f` (or `obj.constructor = C`, or a label named `valueOf`) to an
// object that inherits a frozen `toString` throws in strict code instead of creating an own
// member. Libraries do that (`Foo.prototype.toString = ...`) and request data names such keys
// (a label `constructor: x` is valid in Kubernetes). So, as SES's `enablePropertyOverrides`
// and Node's --frozen-intrinsics do, each such data property of a frozen prototype becomes an
// accessor first: reading it returns the original value; assigning it on an inheriting object
// defines an own member there; assigning it on the prototype itself throws.

type Target = { name: string; object: object; overridable: readonly (string | symbol)[] | 'all' };

/**
 * What is frozen. Object.prototype with every member overridable: plain objects built from
 * request data inherit from it. Array.prototype with only `toString`/`toLocaleString`
 * overridable: its `constructor` and `Symbol.iterator` are watched by V8's protectors (species,
 * iteration), and turning them into accessors would send every `map`, `slice` and `for...of` down
 * the slow path. Function.prototype is left alone: libraries assign HTTP verb names such as
 * `bind` and `call` onto functions (superagent's `request.bind`), and an accessor in place of
 * `Function.prototype.call` would slow every `.call`; request data can only reach it through a
 * `constructor` member of Object.prototype, which is frozen.
 */
const TARGETS: readonly Target[] = [
  { name: 'Object.prototype', object: Object.prototype, overridable: 'all' },
  { name: 'Array.prototype', object: Array.prototype, overridable: ['toString', 'toLocaleString'] },
];

let hardened = false;

/** Whether hardenIntrinsics() has run in this process. */
export function intrinsicsHardened(): boolean {
  return hardened;
}

/** Freezes the prototypes above (idempotent). Call once the process has loaded its modules. */
export function hardenIntrinsics(): void {
  if (hardened) return;
  for (const target of TARGETS) {
    const names = target.overridable === 'all' ? Reflect.ownKeys(target.object) : target.overridable;
    for (const name of names) enableOverride(target.object, target.name, name);
    Object.freeze(target.object);
  }
  // The constructors themselves: `Object.assign = ...` or `Object.polluted = ...` through a
  // `constructor` walk would otherwise still reach every module.
  Object.freeze(Object);
  Object.freeze(Array);
  hardened = true;
}

function enableOverride(object: object, objectName: string, name: string | symbol): void {
  const descriptor = Object.getOwnPropertyDescriptor(object, name);
  if (!descriptor || !('value' in descriptor) || !descriptor.configurable) return;
  const value: unknown = descriptor.value;
  const label = `${objectName}.${String(name)}`;
  Object.defineProperty(object, name, {
    get: function get() {
      return value;
    },
    set: function set(this: object, replacement: unknown) {
      if (this === object) throw new TypeError(`Cannot assign to read only property ${label}: the built-in prototypes are frozen`);
      Object.defineProperty(this, name, { value: replacement, writable: true, enumerable: true, configurable: true });
    },
    enumerable: descriptor.enumerable,
    configurable: false,
  });
}
