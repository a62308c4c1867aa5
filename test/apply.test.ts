import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../api/errors.ts';
import type { KubeObject, ManagedFieldsEntry } from '../api/object.ts';
import { schemaForKind } from '../api/openapi/schema.ts';
import { applyMergePatch, applyStrategicMergePatch, serverSideApply, trackUpdateManagedFields } from '../api/patch/index.ts';

const schema = schemaForKind({ group: '', version: 'v1', kind: 'Pod' })!;
const T1 = new Date('2025-03-01T10:00:00.250Z');
const T2 = new Date('2025-03-01T10:05:00.900Z');
const T3 = new Date('2025-03-01T10:09:00.000Z');

/** What `kubectl apply --server-side -f pod.yaml` sends. */
function podConfig(labels: Record<string, string> = { app: 'web' }, containers?: unknown[]): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { labels, name: 'web4', namespace: 'default' },
    spec: {
      containers: containers ?? [
        { image: 'nginx:1.27', name: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }] },
        { image: 'redis:7', name: 'redis' },
      ],
    },
  };
}

function apply(live: KubeObject | undefined, applied: KubeObject, manager = 'kubectl', now = T1, force = false): KubeObject {
  return serverSideApply({ live, applied, manager, force, schema, apiVersion: 'v1', now });
}

function entry(object: KubeObject, manager: string): ManagedFieldsEntry | undefined {
  return object.metadata.managedFields?.find((e) => e.manager === manager);
}

/** Stand-in for the registry: the server-set metadata a stored object carries. */
function stored(object: KubeObject): KubeObject {
  return { ...object, metadata: { ...object.metadata, uid: 'uid-1', resourceVersion: '5', creationTimestamp: '2025-03-01T10:00:00Z' } };
}

function conflictOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError);
    return err;
  }
  assert.fail('expected a conflict');
}

describe('server-side apply', () => {
  test('first apply creates the object and records the applier in FieldsV1', () => {
    const config = podConfig();
    const created = apply(undefined, config);
    assert.deepEqual(created.metadata.labels, { app: 'web' });
    assert.deepEqual((created.spec as { containers: unknown[] }).containers, (config.spec as { containers: unknown[] }).containers);
    assert.deepEqual(created.metadata.managedFields, [{
      manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2025-03-01T10:00:00Z', fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:containers': {
            'k:{"name":"nginx"}': {
              '.': {}, 'f:image': {}, 'f:name': {},
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
            },
            'k:{"name":"redis"}': { '.': {}, 'f:image': {}, 'f:name': {} },
          },
        },
      },
    }]);
    assert.deepEqual(config, podConfig(), 'applied config untouched');
  });

  test('second apply changes a label and keeps one Apply entry with a new time', () => {
    const live = stored(apply(undefined, podConfig()));
    const snapshot = structuredClone(live);
    const updated = apply(live, podConfig({ app: 'web2' }), 'kubectl', T2);
    assert.deepEqual(updated.metadata.labels, { app: 'web2' });
    assert.equal(updated.metadata.uid, 'uid-1');
    assert.equal(updated.metadata.managedFields?.length, 1);
    assert.equal(updated.metadata.managedFields?.[0].time, '2025-03-01T10:05:00Z');
    assert.deepEqual(live, snapshot, 'live object untouched');
  });

  test('an unchanged re-apply keeps the previous time', () => {
    const live = stored(apply(undefined, podConfig()));
    const again = apply(live, podConfig(), 'kubectl', T2);
    assert.equal(again.metadata.managedFields?.[0].time, '2025-03-01T10:00:00Z');
  });

  test('fields the applier stops specifying are removed', () => {
    const live = stored(apply(undefined, podConfig({ app: 'web', tier: 'front' })));
    const updated = apply(live, podConfig({ app: 'web' }, [{ image: 'nginx:1.27', name: 'nginx' }]), 'kubectl', T2);
    assert.deepEqual(updated.metadata.labels, { app: 'web' });
    assert.deepEqual((updated.spec as { containers: unknown[] }).containers, [{ image: 'nginx:1.27', name: 'nginx' }]);
    assert.deepEqual(entry(updated, 'kubectl')?.fieldsV1, {
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
    });
  });

  test('an emptied struct the applier still sets stays as {}; an emptied map is dropped', () => {
    const withContext = (securityContext: Record<string, unknown>, labels: Record<string, string>): KubeObject => {
      const config = podConfig(labels);
      (config.spec as Record<string, unknown>).securityContext = securityContext;
      return config;
    };
    const live = stored(apply(undefined, withContext({ runAsUser: 1000 }, { app: 'web' })));
    const updated = apply(live, withContext({}, {}), 'kubectl', T2);
    // structured-merge-diff keeps the struct the configuration names; PodSecurityContext encodes as {}.
    assert.deepEqual((updated.spec as Record<string, unknown>).securityContext, {});
    // A map with omitempty is not encoded when empty.
    assert.equal(updated.metadata.labels, undefined);
  });

  test('a removed field stays when another manager owns it too', () => {
    const first = stored(apply(undefined, podConfig({ app: 'web', tier: 'front' })));
    const shared = apply(first, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web4', namespace: 'default', labels: { tier: 'front' } } }, 'other', T2);
    const updated = apply(shared, podConfig({ app: 'web' }), 'kubectl', T3);
    assert.deepEqual(updated.metadata.labels, { app: 'web', tier: 'front' });
    assert.deepEqual(entry(updated, 'other')?.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
  });

  test('a label set by kubectl label conflicts, with kube-apiserver\'s message and causes', () => {
    const live = stored(apply(undefined, podConfig()));
    const patched = applyMergePatch(live, { metadata: { labels: { app: 'labeled' } } });
    const labeled = trackUpdateManagedFields({ old: live, updated: patched, manager: 'kubectl-label', schema, apiVersion: 'v1', now: T2 });
    assert.deepEqual(entry(labeled, 'kubectl-label'), {
      manager: 'kubectl-label', operation: 'Update', apiVersion: 'v1', time: '2025-03-01T10:05:00Z', fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } },
    });
    // The label changed hands: the applier no longer owns it.
    assert.deepEqual((entry(labeled, 'kubectl')?.fieldsV1 as Record<string, unknown>)['f:metadata'], undefined);

    const err = conflictOf(() => apply(labeled, podConfig({ app: 'web3' }), 'kubectl', T3));
    assert.equal(err.code, 409);
    assert.equal(err.reason, 'Conflict');
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-label" using v1: .metadata.labels.app');
    assert.deepEqual(err.toStatus().details, {
      causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-label" using v1', field: '.metadata.labels.app' }],
    });
  });

  test('force takes the field over', () => {
    const live = stored(apply(undefined, podConfig()));
    const labeled = trackUpdateManagedFields({
      old: live, updated: applyMergePatch(live, { metadata: { labels: { app: 'labeled' } } }),
      manager: 'kubectl-label', schema, apiVersion: 'v1', now: T2,
    });
    const forced = apply(labeled, podConfig({ app: 'web3' }), 'kubectl', T3, true);
    assert.deepEqual(forced.metadata.labels, { app: 'web3' });
    assert.equal(entry(forced, 'kubectl-label'), undefined, 'the emptied Update entry is dropped');
    assert.deepEqual((entry(forced, 'kubectl')?.fieldsV1 as Record<string, unknown>)['f:metadata'], { 'f:labels': { 'f:app': {} } });
  });

  test('several conflicts are listed per manager', () => {
    const live = stored(apply(undefined, podConfig()));
    const edited = trackUpdateManagedFields({
      old: live,
      updated: applyStrategicMergePatch(live, {
        metadata: { labels: { app: 'edited' } },
        spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'redis' }], containers: [{ image: 'redis:7.2', name: 'redis' }] },
      }, schema),
      manager: 'kubectl-edit', schema, apiVersion: 'v1', now: T2,
    });
    const err = conflictOf(() => apply(edited, podConfig({ app: 'web' }, [
      { image: 'nginx:1.27', name: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }] },
      { image: 'redis:8', name: 'redis' },
    ]), 'kubectl', T3));
    assert.equal(err.message, 'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using v1:\n'
      + '- .metadata.labels.app\n- .spec.containers[name="redis"].image');
    assert.deepEqual(err.toStatus().details?.causes?.map((c) => c.field), ['.metadata.labels.app', '.spec.containers[name="redis"].image']);
  });

  test('two appliers with the same value share the field', () => {
    const first = stored(apply(undefined, podConfig()));
    const second = apply(first, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web4', namespace: 'default', labels: { app: 'web' } } }, 'helm', T2);
    assert.deepEqual(second.metadata.managedFields?.map((e) => e.manager), ['kubectl', 'helm']);
    assert.deepEqual(entry(second, 'helm')?.fieldsV1, { 'f:metadata': { 'f:labels': { 'f:app': {} } } });
    assert.deepEqual((entry(second, 'kubectl')?.fieldsV1 as Record<string, unknown>)['f:metadata'], { 'f:labels': { 'f:app': {} } });
    // Now neither may change it alone.
    const err = conflictOf(() => apply(second, podConfig({ app: 'other' }), 'kubectl', T3));
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "helm": .metadata.labels.app');
  });

  test('an object without managedFields gets a before-first-apply owner', () => {
    const legacy: KubeObject = { ...podConfig(), metadata: { name: 'web4', namespace: 'default', labels: { app: 'web' }, uid: 'u' } };
    const err = conflictOf(() => apply(legacy, podConfig({ app: 'new' })));
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .metadata.labels.app');
    const same = apply(legacy, podConfig());
    assert.deepEqual(same.metadata.managedFields?.map((e) => `${e.manager}/${e.operation}`), ['kubectl/Apply', 'before-first-apply/Update']);
  });

  test('status is not tracked on the main resource', () => {
    const withStatus: KubeObject = { ...podConfig(), status: { phase: 'Running' } };
    const created = apply(undefined, withStatus);
    assert.equal('f:status' in (created.metadata.managedFields?.[0].fieldsV1 ?? {}), false);
  });

  test('refuses managedFields in the body and a different kind', () => {
    const withManaged: KubeObject = { ...podConfig(), metadata: { ...podConfig().metadata, managedFields: [] } };
    assert.throws(() => apply(undefined, withManaged), { code: 400, message: 'metadata.managedFields must be nil' });
    const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'x' } };
    assert.throws(() => apply(undefined, node), { code: 400, message: 'invalid object type: /v1, Kind=Node' });
  });
});

describe('Update ownership (create, update, non-apply patch)', () => {
  test('kubectl run records fields like kube-apiserver, maps new to the object marked with "."', () => {
    const body: KubeObject = {
      kind: 'Pod', apiVersion: 'v1',
      metadata: { name: 'nginx', labels: { run: 'nginx' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx', resources: {} }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' },
      status: {},
    };
    const created = trackUpdateManagedFields({ old: undefined, updated: body, manager: 'kubectl-run', schema, apiVersion: 'v1', now: T1 });
    assert.deepEqual(created.metadata.managedFields, [{
      manager: 'kubectl-run', operation: 'Update', apiVersion: 'v1', time: '2025-03-01T10:00:00Z', fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:run': {} } },
        'f:spec': {
          'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:resources': {} } },
          'f:dnsPolicy': {}, 'f:restartPolicy': {},
        },
      },
    }]);
    assert.equal(body.metadata.managedFields, undefined, 'input untouched');
  });

  test('a later update by the same manager merges into its entry; an update that changes nothing keeps the time', () => {
    const created = trackUpdateManagedFields({ old: undefined, updated: podConfig(), manager: 'kubectl-create', schema, apiVersion: 'v1', now: T1 });
    const unchanged = trackUpdateManagedFields({ old: created, updated: created, manager: 'kubectl-create', schema, apiVersion: 'v1', now: T2 });
    assert.deepEqual(unchanged.metadata.managedFields, created.metadata.managedFields);
    const relabeled = trackUpdateManagedFields({
      old: created, updated: applyMergePatch(created, { metadata: { labels: { extra: 'x' } } }),
      manager: 'kubectl-create', schema, apiVersion: 'v1', now: T3,
    });
    assert.equal(relabeled.metadata.managedFields?.length, 1);
    assert.equal(relabeled.metadata.managedFields?.[0].time, '2025-03-01T10:09:00Z');
    assert.deepEqual((relabeled.metadata.managedFields?.[0].fieldsV1 as Record<string, any>)['f:metadata'], {
      'f:labels': { '.': {}, 'f:app': {}, 'f:extra': {} },
    });
  });

  test('removing a field drops it from every manager', () => {
    const live = stored(apply(undefined, podConfig({ app: 'web', tier: 'front' })));
    const unlabeled = trackUpdateManagedFields({
      old: live, updated: applyMergePatch(live, { metadata: { labels: { tier: null } } }),
      manager: 'kubectl-label', schema, apiVersion: 'v1', now: T2,
    });
    assert.equal(entry(unlabeled, 'kubectl-label'), undefined, 'a removal alone takes no fields');
    assert.deepEqual((entry(unlabeled, 'kubectl')?.fieldsV1 as Record<string, unknown>)['f:metadata'], { 'f:labels': { 'f:app': {} } });
  });

  test('managedFields [{}] clears ownership', () => {
    const live = stored(apply(undefined, podConfig()));
    const cleared = trackUpdateManagedFields({
      old: live, updated: { ...live, metadata: { ...live.metadata, managedFields: [{}] } },
      manager: 'kubectl-edit', schema, apiVersion: 'v1', now: T2,
    });
    assert.equal(cleared.metadata.managedFields, undefined);
  });
});
