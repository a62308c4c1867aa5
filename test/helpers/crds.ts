// CustomResourceDefinition manifests the CRD suites share.

export interface CrdOptions {
  group?: string;
  plural?: string;
  kind?: string;
  scope?: 'Namespaced' | 'Cluster';
  shortNames?: string[];
  /** Replaces the whole version list. */
  versions?: Record<string, unknown>[];
  /** Schema of `spec` (the default has cronSpec, image, replicas). */
  specSchema?: Record<string, unknown>;
  subresources?: Record<string, unknown>;
  columns?: Record<string, unknown>[];
}

export function crdManifest(options: CrdOptions = {}): Record<string, unknown> {
  const group = options.group ?? 'stable.example.com';
  const plural = options.plural ?? 'crontabs';
  const kind = options.kind ?? 'CronTab';
  const specSchema = options.specSchema ?? {
    type: 'object',
    properties: {
      cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
      image: { type: 'string' },
      replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
    },
  };
  const version: Record<string, unknown> = {
    name: 'v1', served: true, storage: true,
    schema: { openAPIV3Schema: { type: 'object', properties: { spec: specSchema, status: { type: 'object', properties: { replicas: { type: 'integer' }, ready: { type: 'boolean' } } } } } },
  };
  if (options.subresources) version.subresources = options.subresources;
  if (options.columns) version.additionalPrinterColumns = options.columns;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: options.scope ?? 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, ...(options.shortNames ? { shortNames: options.shortNames } : {}) },
      versions: options.versions ?? [version],
    },
  };
}
