// core/v1 PodTemplate: the pod spec defaults of SetDefaults_PodSpec on `template.spec`,
// ValidatePodTemplate (template labels/annotations and the pod spec), printPodTemplate's table.

import type { FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { validateAnnotations, validateLabels } from '../validation/object-meta.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { applyPodSpecDefaults } from './pod-defaults.ts';
import { validatePodSpec } from './pod-validation.ts';
import { column, list, nameColumn, obj, str } from './printing.ts';

function templateOf(podTemplate: KubeObject): Record<string, unknown> {
  if (!isPlainObject(podTemplate.template)) podTemplate.template = {};
  return podTemplate.template as Record<string, unknown>;
}

function validatePodTemplate(podTemplate: KubeObject): FieldError[] {
  const template = templateOf(podTemplate);
  const metadata = isPlainObject(template.metadata) ? template.metadata : {};
  return [
    ...validateLabels(metadata.labels as Record<string, string> | undefined, 'template.metadata.labels'),
    ...validateAnnotations(metadata.annotations as Record<string, string> | undefined, 'template.metadata.annotations'),
    ...validatePodSpec(isPlainObject(template.spec) ? template.spec : {}, 'template.spec'),
  ];
}

/** labels.FormatLabels: `a=b,c=d` sorted by key, `<none>` when empty. */
export function formatLabels(labels: Record<string, unknown> | undefined): string {
  const entries = Object.entries(labels ?? {}).filter(([, v]) => typeof v === 'string').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${String(v)}`).join(',');
}

export const podTemplateStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  listKind: 'PodTemplateList',
  resource: 'podtemplates',
  singular: 'podtemplate',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'podtemplates',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  applyDefaults(podTemplate) {
    const template = templateOf(podTemplate);
    if (!isPlainObject(template.spec)) template.spec = {};
    applyPodSpecDefaults(template.spec as Record<string, unknown>);
  },
  validateName: nameIsDNSSubdomain,
  validate: (podTemplate) => validatePodTemplate(podTemplate),
  validateUpdate: (podTemplate) => validatePodTemplate(podTemplate),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Containers', 'Names of each container in the template.'),
      column('Images', 'Images referenced by each container in the template.'),
      column('Pod Labels', 'The labels for the pod template.'),
    ],
    cells: (podTemplate) => {
      const containers = list(podTemplate, 'template', 'spec', 'containers');
      return [
        podTemplate.metadata.name ?? '',
        containers.map((c) => str(c, 'name')).join(','),
        containers.map((c) => str(c, 'image')).join(','),
        formatLabels(obj(podTemplate, 'template', 'metadata', 'labels')),
      ];
    },
  },
};
