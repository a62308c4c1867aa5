// Taints and tolerations as every component reads them: v1.Toleration.ToleratesTaint, shared by the
// scheduler's TaintToleration filter and score, the DaemonSet controller's node eligibility and the taint
// eviction controller. Structural types, so client-node's V1Taint/V1Toleration and the controllers' lean
// views both fit.

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/**
 * v1.Toleration.ToleratesTaint: an empty effect matches every effect, an empty key every key (validation only
 * allows that with Exists); operator Exists ignores the value, Equal (or empty) compares it.
 */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? '') {
    case 'Exists':
      return true;
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}
