// resource.Quantity for the kubelet: numeric value of "8Gi", "500m", "1e3", "4". The parsing is
// the API's own (api/resources/quantity.ts, a pure helper); the kubelet only insists on validity.

import { parseQuantity as parseApiQuantity } from '../api/resources/quantity.ts';

export function parseQuantity(text: string): number {
  const value = parseApiQuantity(text);
  if (value === undefined) throw new Error(`invalid quantity "${text}"`);
  return value;
}
