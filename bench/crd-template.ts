// The custom resource `create --kind crd` measures: a CRD whose schema carries 10 CEL rules (the
// kind of validation real operators ship), and an object of about the bench pod's size.

import { BENCH_NAMESPACE } from './pod-template.ts';

export const BENCH_CRD_GROUP = 'bench.kubefacade.io';
export const BENCH_CRD_PLURAL = 'webapps';
export const BENCH_CRD_NAME = `${BENCH_CRD_PLURAL}.${BENCH_CRD_GROUP}`;

export function benchCrd(): Record<string, unknown> {
  const container = {
    type: 'object', required: ['name', 'image'],
    properties: {
      name: { type: 'string', maxLength: 63 }, image: { type: 'string', maxLength: 256 },
      port: { type: 'integer', minimum: 1, maximum: 65535 }, cpu: { type: 'string', maxLength: 16 }, memory: { type: 'string', maxLength: 16 },
      env: { type: 'array', maxItems: 32, items: { type: 'object', properties: { name: { type: 'string', maxLength: 128 }, value: { type: 'string', maxLength: 1024 } } } },
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: BENCH_CRD_NAME },
    spec: {
      group: BENCH_CRD_GROUP, scope: 'Namespaced',
      names: { plural: BENCH_CRD_PLURAL, singular: 'webapp', kind: 'WebApp' },
      versions: [{
        name: 'v1', served: true, storage: true, subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object', required: ['replicas', 'containers'],
                'x-kubernetes-validations': [
                  { rule: 'self.replicas <= self.maxReplicas', message: 'replicas must not exceed maxReplicas' },
                  { rule: 'self.minReplicas <= self.replicas', message: 'replicas must be at least minReplicas' },
                  { rule: 'self.containers.all(c, c.image.contains(":"))', message: 'images must be pinned to a tag' },
                  { rule: 'self.containers.exists(c, c.name == self.primary)', message: 'primary must name a container' },
                  { rule: 'size(self.containers) <= 8', message: 'at most 8 containers' },
                  { rule: '!has(self.tier) || self.tier in ["frontend", "backend", "batch"]', message: 'unknown tier' },
                  { rule: 'self.containers.all(c, !has(c.port) || c.port > 1024)', message: 'ports must be unprivileged' },
                  { rule: 'isURL(self.homepage) && url(self.homepage).getScheme() == "https"', message: 'homepage must be https' },
                  { rule: 'self.containers.all(c, !has(c.memory) || quantity(c.memory).isLessThan(quantity("8Gi")))', message: 'memory below 8Gi' },
                  { rule: 'self.labels.all(k, k.matches("^[a-z0-9.-]+(/[a-z0-9.-]+)?$"))', message: 'label keys must be lower case' },
                ],
                properties: {
                  replicas: { type: 'integer' }, minReplicas: { type: 'integer', default: 1 }, maxReplicas: { type: 'integer', default: 10 },
                  primary: { type: 'string', maxLength: 63 }, tier: { type: 'string', maxLength: 16 }, homepage: { type: 'string', maxLength: 256 },
                  labels: { type: 'object', maxProperties: 16, additionalProperties: { type: 'string', maxLength: 63 } },
                  containers: { type: 'array', maxItems: 8, items: container },
                },
              },
              status: { type: 'object', properties: { ready: { type: 'integer' } } },
            },
          },
        },
      }],
    },
  };
}

/** The create body, with `__I__` for the load generator's index. */
export function webAppTemplate(namePrefix: string): string {
  const env = Array.from({ length: 6 }, (_, i) => ({ name: `SETTING_${i}`, value: `value-${i}-of-the-bench-web-application` }));
  return JSON.stringify({
    apiVersion: `${BENCH_CRD_GROUP}/v1`, kind: 'WebApp',
    metadata: {
      name: `${namePrefix}__I__`, namespace: BENCH_NAMESPACE,
      labels: { app: 'bench-web', tier: 'frontend', 'app.kubernetes.io/name': 'bench-web', 'app.kubernetes.io/instance': 'bench-web-__I__' },
      annotations: { 'kubernetes.io/description': 'kubefacade benchmark custom resource' },
    },
    spec: {
      replicas: 3, maxReplicas: 5, primary: 'web', tier: 'frontend', homepage: 'https://shop.example.com/',
      labels: { 'app.kubernetes.io/name': 'web', team: 'shop' },
      containers: [
        { name: 'web', image: 'nginx:1.27.0', port: 8080, cpu: '250m', memory: '256Mi', env },
        { name: 'log-shipper', image: 'fluent-bit:3.0.4', cpu: '50m', memory: '64Mi', env: env.slice(0, 3) },
      ],
    },
  });
}
