import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../api/errors.ts';
import type { KubeObject } from '../api/object.ts';
import { schemaForKind } from '../api/openapi/schema.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../api/patch/index.ts';

const podSchema = schemaForKind({ group: '', version: 'v1', kind: 'Pod' })!;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The pod `kubectl apply -f pod.yaml` created (kubectl-wire.md §7), as stored. */
function appliedPod(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '10',
      annotations: { [LAST_APPLIED]: '{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"labels":{"app":"web"},"name":"web","namespace":"default"}}\n' },
      labels: { app: 'web' },
    },
    spec: {
      containers: [
        { image: 'nginx:1.27', name: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }] },
        { image: 'redis:7', name: 'redis' },
      ],
      restartPolicy: 'Always',
    },
  };
}

function spec(object: KubeObject): Record<string, any> {
  return object.spec as Record<string, any>;
}

function assertStatus(fn: () => unknown, code: number, reason: string, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, code);
    assert.equal(err.reason, reason);
    assert.equal(err.message, message);
    return true;
  });
}

describe('strategic merge patch: bodies kubectl sends', () => {
  test('apply a second time with a changed label', () => {
    const live = appliedPod();
    const annotation = '{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"labels":{"app":"web2"},"name":"web","namespace":"default"}}\n';
    const patched = applyStrategicMergePatch(live, { metadata: { annotations: { [LAST_APPLIED]: annotation }, labels: { app: 'web2' } } }, podSchema);
    assert.deepEqual(patched.metadata.labels, { app: 'web2' });
    assert.equal(patched.metadata.annotations?.[LAST_APPLIED], annotation);
    assert.deepEqual(patched.spec, appliedPod().spec);
    assert.deepEqual(live, appliedPod(), 'input untouched');
  });

  test('image change with $setElementOrder keeps the other container and its ports', () => {
    const patched = applyStrategicMergePatch(appliedPod(), {
      metadata: { annotations: { [LAST_APPLIED]: 'x' } },
      spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'redis' }], containers: [{ image: 'redis:7.4', name: 'redis' }] },
    }, podSchema);
    assert.deepEqual(spec(patched).containers, [
      { image: 'nginx:1.27', name: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }] },
      { image: 'redis:7.4', name: 'redis' },
    ]);
    assert.equal(Object.keys(spec(patched)).some((k) => k.startsWith('$')), false);
  });

  test('container and labels removed', () => {
    const patched = applyStrategicMergePatch(appliedPod(), {
      metadata: { annotations: { [LAST_APPLIED]: 'y' }, labels: null },
      spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ $patch: 'delete', name: 'redis' }] },
    }, podSchema);
    assert.equal('labels' in patched.metadata, false);
    assert.deepEqual(spec(patched).containers.map((c: { name: string }) => c.name), ['nginx']);
    assert.equal(patched.metadata.annotations?.[LAST_APPLIED], 'y');
  });

  test('kubectl edit', () => {
    const patched = applyStrategicMergePatch(appliedPod(), {
      metadata: { labels: { app: 'edited' } },
      spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'redis' }], containers: [{ image: 'redis:7.2', name: 'redis' }] },
    }, podSchema);
    assert.deepEqual(patched.metadata.labels, { app: 'edited' });
    assert.deepEqual(spec(patched).containers[1], { image: 'redis:7.2', name: 'redis' });
    assert.equal(patched.metadata.resourceVersion, '10');
  });

  test('kubectl cordon on a node', () => {
    const nodeSchema = schemaForKind({ group: '', version: 'v1', kind: 'Node' })!;
    const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: { podCIDR: '10.0.0.0/24' } };
    const patched = applyStrategicMergePatch(node, { spec: { unschedulable: true } }, nodeSchema);
    assert.deepEqual(patched.spec, { podCIDR: '10.0.0.0/24', unschedulable: true });
  });
});

describe('strategic merge patch: directives and list strategies', () => {
  function richPod(): KubeObject {
    const pod = appliedPod();
    const containers = spec(pod).containers;
    containers[0].env = [{ name: 'A', value: '1' }, { name: 'B', value: '2' }];
    containers[0].volumeMounts = [{ name: 'data', mountPath: '/data' }];
    containers[0].args = ['--one', '--two'];
    spec(pod).tolerations = [{ key: 'k1', operator: 'Exists' }];
    spec(pod).volumes = [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg' } }];
    spec(pod).nodeSelector = { disk: 'hdd', zone: 'a' };
    pod.metadata.finalizers = ['a.example/one', 'b.example/two', 'c.example/three'];
    pod.status = { conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }] };
    return pod;
  }

  test('lists with a merge key merge by it, keep order and append new items', () => {
    const patched = applyStrategicMergePatch(richPod(), {
      spec: {
        containers: [{
          name: 'nginx',
          env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }],
          ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }],
          volumeMounts: [{ mountPath: '/data', readOnly: true }],
        }],
      },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    }, podSchema);
    const nginx = spec(patched).containers[0];
    assert.deepEqual(nginx.env, [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }]);
    assert.deepEqual(nginx.ports, [{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 443 }]);
    assert.deepEqual(nginx.volumeMounts, [{ name: 'data', mountPath: '/data', readOnly: true }]);
    assert.deepEqual((patched.status as any).conditions, [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }]);
  });

  test('lists without a merge strategy (tolerations, args) are replaced', () => {
    const patched = applyStrategicMergePatch(richPod(), {
      spec: { tolerations: [{ key: 'k2', operator: 'Exists' }], containers: [{ name: 'nginx', args: ['--three'] }] },
    }, podSchema);
    assert.deepEqual(spec(patched).tolerations, [{ key: 'k2', operator: 'Exists' }]);
    assert.deepEqual(spec(patched).containers[0].args, ['--three']);
  });

  test('$patch: replace in a map and in a list', () => {
    const patched = applyStrategicMergePatch(richPod(), {
      spec: {
        nodeSelector: { $patch: 'replace', disk: 'ssd' },
        containers: [{ name: 'only', image: 'busybox' }, { $patch: 'replace' }],
      },
    }, podSchema);
    assert.deepEqual(spec(patched).nodeSelector, { disk: 'ssd' });
    assert.deepEqual(spec(patched).containers, [{ name: 'only', image: 'busybox' }]);
  });

  test('$patch: delete on a map empties it', () => {
    const patched = applyStrategicMergePatch(richPod(), { spec: { nodeSelector: { $patch: 'delete' } } }, podSchema);
    assert.deepEqual(spec(patched).nodeSelector, {});
  });

  test('$setElementOrder reorders', () => {
    const patched = applyStrategicMergePatch(richPod(), {
      spec: { '$setElementOrder/containers': [{ name: 'redis' }, { name: 'nginx' }] },
      metadata: { '$setElementOrder/finalizers': ['c.example/three', 'a.example/one', 'b.example/two'] },
    }, podSchema);
    assert.deepEqual(spec(patched).containers.map((c: { name: string }) => c.name), ['redis', 'nginx']);
    assert.deepEqual(patched.metadata.finalizers, ['c.example/three', 'a.example/one', 'b.example/two']);
  });

  test('$setElementOrder places a new item and keeps server-only items in place', () => {
    const patched = applyStrategicMergePatch(richPod(), {
      spec: {
        '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'nginx' }],
        containers: [{ name: 'sidecar', image: 'envoy' }],
      },
    }, podSchema);
    assert.deepEqual(spec(patched).containers.map((c: { name: string }) => c.name), ['sidecar', 'nginx', 'redis']);
  });

  test('$retainKeys drops the volume source that is not retained', () => {
    const patched = applyStrategicMergePatch(richPod(), {
      spec: { volumes: [{ name: 'data', hostPath: { path: '/srv' }, $retainKeys: ['hostPath', 'name'] }] },
    }, podSchema);
    assert.deepEqual(spec(patched).volumes, [{ name: 'data', hostPath: { path: '/srv' } }, { name: 'cfg', configMap: { name: 'cfg' } }]);
  });

  test('$retainKeys that does not list a patched key is refused', () => {
    assertStatus(() => applyStrategicMergePatch(richPod(), {
      spec: { volumes: [{ name: 'data', hostPath: { path: '/srv' }, $retainKeys: ['name'] }] },
    }, podSchema), 422, 'Invalid', "patch content doesn't match retainKeys list");
  });

  test('$deleteFromPrimitiveList and primitive list union', () => {
    const removed = applyStrategicMergePatch(richPod(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['b.example/two'] } }, podSchema);
    assert.deepEqual(removed.metadata.finalizers, ['a.example/one', 'c.example/three']);
    const added = applyStrategicMergePatch(richPod(), { metadata: { finalizers: ['d.example/four', 'a.example/one'] } }, podSchema);
    assert.deepEqual(added.metadata.finalizers, ['a.example/one', 'b.example/two', 'c.example/three', 'd.example/four']);
  });

  test('null deletes a key and a new list is taken without directives', () => {
    const pod = appliedPod();
    const patched = applyStrategicMergePatch(pod, {
      spec: { restartPolicy: null, initContainers: [{ name: 'init', image: 'busybox', command: null, env: [{ name: 'X', value: '1' }] }] },
    }, podSchema);
    assert.equal('restartPolicy' in spec(patched), false);
    assert.deepEqual(spec(patched).initContainers, [{ name: 'init', image: 'busybox', env: [{ name: 'X', value: '1' }] }]);
  });

  test('errors are worded as kube-apiserver words them', () => {
    assertStatus(() => applyStrategicMergePatch(appliedPod(), [{ op: 'add' }], podSchema), 400, 'BadRequest',
      'json: cannot unmarshal array into Go value of type map[string]interface {}');
    assertStatus(() => applyStrategicMergePatch(appliedPod(), { spec: { containers: [{ image: 'x' }] } }, podSchema), 400, 'BadRequest',
      'map: {"image":"x"} does not contain declared merge key: name');
  });
});

describe('JSON patch', () => {
  test('add, remove, replace, test, move and copy in order', () => {
    const live = appliedPod();
    const patched = applyJsonPatch(live, [
      { op: 'test', path: '/metadata/labels/app', value: 'web' },
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.28' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'sidecar', image: 'envoy' } },
      { op: 'remove', path: '/spec/containers/1' },
      { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copied' },
      { op: 'move', from: '/metadata/labels/tier', path: '/metadata/annotations/tier' },
    ]);
    assert.deepEqual(patched.metadata.labels, { app: 'web', copied: 'web' });
    assert.equal(patched.metadata.annotations?.tier, 'front');
    assert.deepEqual(spec(patched).containers.map((c: { name: string; image: string }) => `${c.name}=${c.image}`), ['nginx=nginx:1.28', 'sidecar=envoy']);
    assert.deepEqual(live, appliedPod(), 'input untouched');
  });

  test('replace of a missing object member adds it, as json-patch v4 does', () => {
    const patched = applyJsonPatch(appliedPod(), [{ op: 'replace', path: '/metadata/labels/new', value: 'v' }]);
    assert.deepEqual(patched.metadata.labels, { app: 'web', new: 'v' });
  });

  test('a failed test, a missing path and an unknown op are the generic 422', () => {
    const message = 'the server rejected our request due to an error in our request';
    assertStatus(() => applyJsonPatch(appliedPod(), [{ op: 'test', path: '/metadata/labels/app', value: 'other' }]), 422, 'Invalid', message);
    assertStatus(() => applyJsonPatch(appliedPod(), [{ op: 'remove', path: '/metadata/labels/missing' }]), 422, 'Invalid', message);
    assertStatus(() => applyJsonPatch(appliedPod(), [{ op: 'add', path: '/spec/missing/deeper', value: 1 }]), 422, 'Invalid', message);
    assertStatus(() => applyJsonPatch(appliedPod(), [{ op: 'frobnicate', path: '/spec' }]), 422, 'Invalid', message);
  });

  test('a body that is not a list of operations is a 400', () => {
    assertStatus(() => applyJsonPatch(appliedPod(), { op: 'add' }), 400, 'BadRequest',
      'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    assertStatus(() => applyJsonPatch(appliedPod(), ['add']), 400, 'BadRequest',
      'json: cannot unmarshal string into Go value of type jsonpatch.Operation');
  });
});

describe('JSON merge patch', () => {
  test('kubectl label / unlabel bodies, nested merge and list replacement', () => {
    const live = appliedPod();
    const labeled = applyMergePatch(live, { metadata: { labels: { a: 'b' } } });
    assert.deepEqual(labeled.metadata.labels, { app: 'web', a: 'b' });
    const unlabeled = applyMergePatch(labeled, { metadata: { labels: { a: null } } });
    assert.deepEqual(unlabeled.metadata.labels, { app: 'web' });
    const replaced = applyMergePatch(live, { spec: { containers: [{ name: 'solo', image: 'busybox' }] } });
    assert.deepEqual(spec(replaced).containers, [{ name: 'solo', image: 'busybox' }]);
    assert.equal(spec(replaced).restartPolicy, 'Always');
    assert.deepEqual(live, appliedPod(), 'input untouched');
  });

  test('a non-object body is a 400', () => {
    assertStatus(() => applyMergePatch(appliedPod(), 'x'), 400, 'BadRequest',
      'json: cannot unmarshal string into Go value of type map[string]interface {}');
  });
});
