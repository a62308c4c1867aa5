// metav1.LabelSelector matching for the controllers (which speak only the API, and so carry their own
// copy of this small piece of apimachinery): matchLabels and matchExpressions with In, NotIn,
// Exists and DoesNotExist. A missing selector matches nothing; an empty one matches everything.

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export function isLabelSelector(value: unknown): value is LabelSelector {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Throws for an operator the API would have rejected (a controller treats the object as malformed). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(have, expr.key);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In': if (!present || !values.includes(have[expr.key])) return false; break;
      case 'NotIn': if (present && values.includes(have[expr.key])) return false; break;
      case 'Exists': if (!present) return false; break;
      case 'DoesNotExist': if (present) return false; break;
      default: throw new Error(`"${expr.operator}" is not a valid label selector operator`);
    }
  }
  return true;
}

export function selectorIsEmpty(selector: LabelSelector | undefined): boolean {
  return !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}

/** labels.SelectorFromSet(map) as a structured selector (ReplicationControllers select with a map). */
export function selectorFromMap(map: Record<string, string> | undefined): LabelSelector | undefined {
  return map && Object.keys(map).length ? { matchLabels: map } : undefined;
}

/** metav1.FormatLabelSelector-like text for messages: app=web,tier in (a,b). */
export function selectorText(selector: LabelSelector | undefined): string {
  if (!selector) return '<none>';
  const parts = Object.keys(selector.matchLabels ?? {}).sort().map((k) => `${k}=${selector.matchLabels![k]}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',') || '<none>';
}
