import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/object.ts';
import { deepCopy } from '../api/object.ts';
import { objectJson, parseStoredJson, rememberJson } from '../storage/object-json.ts';
import { withResourceVersion } from '../storage/object-versioning.ts';

const text = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default', resourceVersion: '7' }, data: { k: 'v' } });

test('the remembered text is what objectJson returns, and no reader of the object can see it', () => {
  const object = parseStoredJson(text);
  assert.equal(objectJson(object), text);
  assert.equal(JSON.stringify(object), text, 'JSON.stringify skips it');
  assert.deepEqual(Object.keys(object), ['apiVersion', 'kind', 'metadata', 'data']);
  const forIn: string[] = [];
  for (const key in object) forIn.push(key);
  assert.deepEqual(forIn, ['apiVersion', 'kind', 'metadata', 'data']);
  assert.deepStrictEqual(object, JSON.parse(text), 'strict deep equality with a plain parse');
  assert.deepStrictEqual(structuredClone(object), JSON.parse(text));
  assert.deepStrictEqual(deepCopy(object), JSON.parse(text));
});

test('a copy does not inherit the text: a new resourceVersion is stringified afresh', () => {
  const object = parseStoredJson(text);
  const spread = { ...object } as KubeObject;
  spread.data = { k: 'changed' };
  assert.equal(objectJson(spread), JSON.stringify(spread));
  const next = withResourceVersion(object, 8);
  assert.equal(JSON.parse(objectJson(next)).metadata.resourceVersion, '8');
  assert.equal(objectJson(object), text, 'the original keeps its own text');
});

test('objects that cannot take a property (frozen) still get their text remembered', () => {
  const object = Object.freeze(JSON.parse(text)) as KubeObject;
  rememberJson(object, text);
  assert.equal(objectJson(object), text);
  const unremembered = Object.freeze(JSON.parse(text)) as KubeObject;
  assert.equal(objectJson(unremembered), text);
  assert.equal(objectJson(unremembered), text);
});
