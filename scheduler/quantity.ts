// Exact parsing of Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource).
// Values are kept as BigInt fractions so `0.1`, `100m` and `1e-1` compare equal, and rounding
// happens once, upward, exactly like Quantity.Value()/MilliValue().

const BINARY_SUFFIXES: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};

const DECIMAL_SUFFIX_EXPONENTS: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

const QUANTITY_PATTERN = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** A quantity as an exact fraction numerator/denominator (denominator > 0). */
export interface ExactQuantity {
  numerator: bigint;
  denominator: bigint;
}

export function parseQuantityExact(text: string): ExactQuantity {
  const match = QUANTITY_PATTERN.exec(text.trim());
  if (!match) throw new Error(`quantities must match the regular expression '${QUANTITY_PATTERN.source}': ${text}`);
  const [, sign, digits, suffix = ''] = match;
  const [whole, fraction = ''] = digits.split('.');
  let numerator = BigInt((whole || '0') + fraction);
  let denominator = 10n ** BigInt(fraction.length);
  if (suffix in BINARY_SUFFIXES) {
    numerator *= BINARY_SUFFIXES[suffix];
  } else {
    const exponent = suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')
      ? Number(suffix.slice(1))
      : DECIMAL_SUFFIX_EXPONENTS[suffix];
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  }
  if (sign === '-') numerator = -numerator;
  return { numerator, denominator };
}

function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  return numerator % denominator > 0n ? quotient + 1n : quotient;
}

/**
 * Parsed values by text. A cluster's requests and allocatables repeat a handful of strings ("100m", "128Mi"),
 * while every pod update re-reads them; BigInt parsing showed in profiles. Bounded: cleared when full.
 */
const MAX_MEMOISED_QUANTITIES = 4096;
const valueByText = new Map<string, number>();
const milliValueByText = new Map<string, number>();

function memoised(memo: Map<string, number>, text: string, compute: () => number): number {
  const known = memo.get(text);
  if (known !== undefined) return known;
  const value = compute();
  if (memo.size >= MAX_MEMOISED_QUANTITIES) memo.clear();
  memo.set(text, value);
  return value;
}

/** Quantity.Value(): whole units, rounded up (memory in bytes, pods as a count). */
export function quantityValue(text: string): number {
  return memoised(valueByText, text, () => {
    const { numerator, denominator } = parseQuantityExact(text);
    return Number(ceilDiv(numerator, denominator));
  });
}

/** Quantity.MilliValue(): thousandths, rounded up (cpu in millicores). */
export function quantityMilliValue(text: string): number {
  return memoised(milliValueByText, text, () => {
    const { numerator, denominator } = parseQuantityExact(text);
    return Number(ceilDiv(numerator * 1000n, denominator));
  });
}
