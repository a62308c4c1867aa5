// Table cells shared by the workload kinds' printers (pkg/printers/internalversion/printers.go):
// the wide columns Containers, Images and Selector, and the replica counts.

import type { KubeObject } from '../object.ts';
import type { TableColumnDefinition } from '../resource.ts';
import { labelSelectorFromSpec, type LabelSelectorSpec } from '../selectors/label-selector.ts';
import { column, field, list, num, obj } from './printing.ts';

export const CONTAINERS_DESCRIPTION = 'Names of each container in the template.';
export const IMAGES_DESCRIPTION = 'Images referenced by each container in the template.';
export const SELECTOR_DESCRIPTION = 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template\'s labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors';

export function wideTemplateColumns(selectorDescription = SELECTOR_DESCRIPTION, withSelector = true): TableColumnDefinition[] {
  return [
    column('Containers', CONTAINERS_DESCRIPTION, 1),
    column('Images', IMAGES_DESCRIPTION, 1),
    ...(withSelector ? [column('Selector', selectorDescription, 1)] : []),
  ];
}

/** Names and images of a pod template's containers, comma-joined (layoutContainerCells). */
export function templateContainerCells(template: unknown): [string, string] {
  const containers = list(template, 'spec', 'containers');
  return [containers.map((c) => String(c.name ?? '')).join(','), containers.map((c) => String(c.image ?? '')).join(',')];
}

/** metav1.FormatLabelSelector: `app=web`, `<none>` for an empty one. */
export function formatLabelSelector(selector: unknown): string {
  if (selector === undefined || selector === null) return '<none>';
  try {
    const text = labelSelectorFromSpec(selector as LabelSelectorSpec).toString();
    return text === '' ? '<none>' : text;
  } catch {
    return '<error>';
  }
}

/** A set-based selector of an RC (a plain map) printed as labels.FormatLabels. */
export function formatLabelMap(selector: unknown): string {
  const map = obj(selector);
  if (!map || Object.keys(map).length === 0) return '<none>';
  return Object.keys(map).sort().map((k) => `${k}=${String(map[k])}`).join(',');
}

export function statusCount(object: KubeObject, name: string): number {
  return num(object, 'status', name) ?? 0;
}

export function specReplicas(object: KubeObject): number {
  const replicas = field(object, 'spec', 'replicas');
  return typeof replicas === 'number' ? replicas : 0;
}
