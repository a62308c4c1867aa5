// What /openapi/v2 publishes for a CRD's schema (api/customresources/openapi.ts), as the
// apiextensions-apiserver's ToStructuralOpenAPIV2 and buildKubeNative(V2) make it: swagger 2.0 and
// kubectl's v2 validation cannot take junctors, nullable types or properties under
// x-kubernetes-preserve-unknown-fields, and a schema preserving unknown fields at its root is a bare object.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCustomResourceOpenApi, toStructuralOpenApiV2 } from '../api/customresources/openapi.ts';
import { customResourceStrategy } from '../api/customresources/strategy.ts';
import type { CustomResourceDefinition, JSONSchemaProps } from '../api/customresources/types.ts';

describe('custom resource OpenAPI v2', () => {
  test('junctors, nullable and preserve-unknown-fields as ToStructuralOpenAPIV2 removes them', () => {
    const schema = {
      type: 'object', required: ['a', 'n'],
      properties: {
        a: { type: 'string', anyOf: [{ pattern: 'x' }], not: { enum: ['y'] } },
        n: { type: 'object', nullable: true, properties: { x: { type: 'string' } } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'anything', properties: { k: { type: 'string' } } },
        list: { type: 'array', 'x-kubernetes-preserve-unknown-fields': true, items: { type: 'string' } },
        nested: { type: 'array', items: { type: 'object', properties: { deep: { type: 'integer', oneOf: [{ minimum: 1 }] } } } },
      },
    } as unknown as JSONSchemaProps;
    assert.deepEqual(toStructuralOpenApiV2(schema), {
      type: 'object', required: ['a'],
      properties: {
        a: { type: 'string' },
        n: {},
        free: { 'x-kubernetes-preserve-unknown-fields': true, description: 'anything' },
        list: { 'x-kubernetes-preserve-unknown-fields': true },
        nested: { type: 'array', items: { type: 'object', properties: { deep: { type: 'integer' } } } },
      },
    });
  });

  function published(schema: JSONSchemaProps): { v2: Record<string, unknown>; v3: Record<string, unknown> } {
    const crd: CustomResourceDefinition = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com', uid: 'u' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] },
    } as CustomResourceDefinition;
    const strategy = customResourceStrategy(crd, crd.spec.versions[0], undefined);
    const built = buildCustomResourceOpenApi([{ crd, strategies: [strategy] }]);
    const v3 = (built.v3.get('apis/example.com/v1') as { components: { schemas: Record<string, Record<string, unknown>> } }).components.schemas['com.example.v1.Widget'];
    return { v2: built.v2Definitions['com.example.v1.Widget'] as Record<string, unknown>, v3 };
  }

  test('a schema preserving unknown fields at its root is a bare object in v2, complete in v3', () => {
    const { v2, v3 } = published({ type: 'object', description: 'root', 'x-kubernetes-preserve-unknown-fields': true, properties: { spec: { type: 'object' } } } as JSONSchemaProps);
    assert.deepEqual(v2, { type: 'object', 'x-kubernetes-group-version-kind': [{ group: 'example.com', kind: 'Widget', version: 'v1' }] });
    assert.equal(v3.description, 'root');
    assert.deepEqual(Object.keys(v3.properties as object).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
  });

  test('other schemas keep their fields in v2, with apiVersion, kind and a metadata reference', () => {
    const { v2 } = published({ type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } } } } as JSONSchemaProps);
    const properties = v2.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(properties.spec, { 'x-kubernetes-preserve-unknown-fields': true });
    assert.equal(properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(properties.apiVersion.type, 'string');
  });

  test('conversion None: an object stored through another version reads with this version\'s apiVersion', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v2', served: true, storage: true }] },
    } as CustomResourceDefinition;
    const strategy = customResourceStrategy(crd, crd.spec.versions[0], undefined);
    const [converted] = await strategy.convert!([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, data: { x: 1 } }]);
    assert.deepEqual(converted, { apiVersion: 'example.com/v2', kind: 'Widget', metadata: { name: 'w' }, data: { x: 1 } });
  });
});
