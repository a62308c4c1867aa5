// resource.Quantity parsing, enough to compare and add quantities (QoS, defaulting): a decimal
// number with an optional binary (Ki..Ei) or decimal (n..E) suffix or exponent.

const SUFFIXES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

/** The quantity's value in base units (cores, bytes), or undefined if it is not a quantity. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  // Pods repeat a handful of quantities ('100m', '64Mi'), parsed for QoS and again for validation.
  if (parsed.has(value)) return parsed.get(value);
  if (parsed.size >= MAX_PARSED) parsed.clear();
  const quantity = parseQuantityText(value);
  parsed.set(value, quantity);
  return quantity;
}

const parsed = new Map<string, number | undefined>();
const MAX_PARSED = 4_096;

function parseQuantityText(value: string): number | undefined {
  const match = QUANTITY.exec(value.trim());
  if (!match) return undefined;
  const base = Number(match[1]);
  if (match[2]) return Number(`${match[1]}${match[2]}`);
  return base * SUFFIXES[match[3] ?? ''];
}

/** Equality tolerant of float rounding between notations (`0.1` vs `100m`). */
export function quantitiesEqual(a: number, b: number): boolean {
  return Math.abs(a - b) <= Math.max(Math.abs(a), Math.abs(b)) * 1e-12;
}
