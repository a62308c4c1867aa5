// CustomResourceDefinition manifests and waits the CRD suites share.

import type { TestServer } from './api-server.ts';

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

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function waitEstablished(t: TestServer, name: string): Promise<Record<string, unknown>> {
  return waitFor(`${name} Established`, async () => {
    const res = await t.call('get', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
    const conditions = (res.body.status?.conditions ?? []) as { type: string; status: string }[];
    return conditions.some((c) => c.type === 'Established' && c.status === 'True') ? res.body : undefined;
  });
}

