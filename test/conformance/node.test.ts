// Conformance entries of sig-node and sig-architecture that concern pods, nodes and leases, against
// `up`'s cluster: the bundled scheduler and two simulated kubelets run the pods.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { startConformanceCluster, podManifest, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const NS = '/api/v1/namespaces/default';

describe('conformance: node', () => {
  let c: ConformanceCluster;
  before(async () => { c = await startConformanceCluster('node', { nodes: 2 }); });
  after(async () => { await c.stop(); });

  const pod = (name: string) => c.api('get', `${NS}/pods/${name}`);
  const waitPod = (name: string, what: string, ok: (p: Json) => boolean) => until(async () => {
    const p = await pod(name);
    return ok(p) ? p : undefined;
  }, `pod ${name}: ${what}`);
  const running = (name: string) => waitPod(name, 'Running', (p) => p.status?.phase === 'Running');

  test('Conformance tests minimum number of nodes.', async () => {
    const nodes = await until(async () => {
      const list = await c.api('get', '/api/v1/nodes');
      const schedulable = list.items.filter((n: Json) => !n.spec.unschedulable
        && !(n.spec.taints ?? []).some((t: Json) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
        && n.status.conditions?.some((cond: Json) => cond.type === 'Ready' && cond.status === 'True'));
      return schedulable.length >= 2 ? schedulable : undefined;
    }, 'two untainted Ready nodes');
    assert.ok(nodes.length >= 2);
    // Pods can be scheduled there.
    await c.api('post', `${NS}/pods`, { body: podManifest('min-nodes'), expect: 201 });
    const placed = await running('min-nodes');
    assert.ok(nodes.some((n: Json) => n.metadata.name === placed.spec.nodeName));
  });

  test('Node, resource lifecycle', async () => {
    const name = 'e2e-fake-node';
    const created = await c.api('post', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name } }, expect: 201 });
    assert.equal(created.metadata.name, name);
    assert.equal((await c.api('get', `/api/v1/nodes/${name}`)).metadata.name, name);
    await c.api('patch', `/api/v1/nodes/${name}`, { body: { metadata: { labels: { [name]: 'patched' } } }, contentType: 'application/strategic-merge-patch+json' });
    const listed = await c.api('get', `/api/v1/nodes?labelSelector=${encodeURIComponent(`${name}=patched`)}`);
    assert.deepEqual(listed.items.map((n: Json) => n.metadata.name), [name]);
    const current = await c.api('get', `/api/v1/nodes/${name}`);
    current.metadata.labels[name] = 'updated';
    const updated = await c.api('put', `/api/v1/nodes/${name}`, { body: current });
    assert.equal(updated.metadata.labels[name], 'updated');
    await c.api('delete', `/api/v1/nodes/${name}`);
    await c.api('get', `/api/v1/nodes/${name}`, { expect: 404 });
  });

  test('lease API should be available', async () => {
    const path = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
    const spec = { holderIdentity: 'holder', leaseDurationSeconds: 30, acquireTime: '2024-01-01T00:00:00.000000Z', renewTime: '2024-01-01T00:00:00.000000Z', leaseTransitions: 0 };
    await c.api('post', path, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lease' }, spec }, expect: 201 });
    assert.deepEqual((await c.api('get', `${path}/lease`)).spec, spec);
    const read = await c.api('get', `${path}/lease`);
    const updatedSpec = { ...spec, holderIdentity: 'holder2', leaseTransitions: 1 };
    await c.api('put', `${path}/lease`, { body: { ...read, spec: updatedSpec } });
    assert.deepEqual((await c.api('get', `${path}/lease`)).spec, updatedSpec);
    await c.api('patch', `${path}/lease`, { body: { spec: { holderIdentity: 'holder3', leaseTransitions: 2 } }, contentType: 'application/strategic-merge-patch+json' });
    assert.deepEqual((await c.api('get', `${path}/lease`)).spec, { ...updatedSpec, holderIdentity: 'holder3', leaseTransitions: 2 });
    await c.api('post', path, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lease2', labels: { deletecollection: 'true' } }, spec }, expect: 201 });
    const both = await c.api('get', path);
    assert.deepEqual(both.items.map((l: Json) => l.metadata.name).sort(), ['lease', 'lease2']);
    await c.api('delete', `${path}?labelSelector=deletecollection%3Dtrue`);
    assert.deepEqual((await c.api('get', path)).items.map((l: Json) => l.metadata.name), ['lease']);
    await c.api('delete', `${path}/lease`);
    await c.api('get', `${path}/lease`, { expect: 404 });
  });

  test('Pods, QOS', async () => {
    const resources = { requests: { cpu: '100m', memory: '100Mi' }, limits: { cpu: '100m', memory: '100Mi' } };
    const created = await c.api('post', `${NS}/pods`, { body: podManifest('qos', { spec: { containers: [{ name: 'c', image: 'nginx', resources }] } }), expect: 201 });
    assert.equal(created.status.qosClass, 'Guaranteed');
    assert.equal((await pod('qos')).status.qosClass, 'Guaranteed');
  });

  test('Pods, lifecycle', async () => {
    const labels = { name: 'pod-lifecycle', time: String(Date.now()) };
    const selector = encodeURIComponent(`time=${labels.time}`);
    const before = await c.api('get', `${NS}/pods?labelSelector=${selector}`);
    assert.deepEqual(before.items, []);
    const events: Json[] = [];
    const watch = c.raw('get', `${NS}/pods?watch=1&labelSelector=${selector}&resourceVersion=${before.metadata.resourceVersion}&timeoutSeconds=30`)
      .buffer(false).parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const lines = text.split('\n');
          text = lines.pop() ?? '';
          for (const line of lines) if (line) events.push(JSON.parse(line));
          if (events.some((e) => e.type === 'DELETED')) (res as unknown as { destroy(): void }).destroy();
        });
        res.on('close', () => done(null, undefined));
        res.on('end', () => done(null, undefined));
      });
    const watched = watch.then(() => undefined, () => undefined);
    await c.api('post', `${NS}/pods`, { body: podManifest('pod-lifecycle', { labels }), expect: 201 });
    assert.deepEqual((await c.api('get', `${NS}/pods?labelSelector=${selector}`)).items.map((p: Json) => p.metadata.name), ['pod-lifecycle']);
    await running('pod-lifecycle');
    await c.api('delete', `${NS}/pods/pod-lifecycle`, { body: { gracePeriodSeconds: 30 } });
    await until(async () => (events.some((e) => e.type === 'DELETED') ? true : undefined), 'the watch to see the pod deleted');
    await watched;
    assert.equal(events[0].type, 'ADDED');
    assert.ok(events.some((e) => e.type === 'MODIFIED' && e.object.metadata.deletionTimestamp), 'the deletion timestamp is observed');
    assert.deepEqual((await c.api('get', `${NS}/pods?labelSelector=${selector}`)).items, []);
  });

  test('Pods, update', async () => {
    await c.api('post', `${NS}/pods`, { body: podManifest('pod-update', { labels: { name: 'foo', time: 'one' } }), expect: 201 });
    assert.equal((await c.api('get', `${NS}/pods?labelSelector=time%3Done`)).items.length, 1);
    // As the e2e client does: read, change, write, and again on a conflict (the kubelet writes status meanwhile).
    await until(async () => {
      const current = await pod('pod-update');
      current.metadata.labels.time = 'two';
      const res = await c.raw('put', `${NS}/pods/pod-update`).set('Content-Type', 'application/json').send(JSON.stringify(current));
      if (res.status === 409) return undefined;
      assert.equal(res.status, 200, res.text);
      return true;
    }, 'the update to go through');
    assert.deepEqual((await c.api('get', `${NS}/pods?labelSelector=time%3Dtwo`)).items.map((p: Json) => p.metadata.name), ['pod-update']);
  });

  test('Pods, delete a collection', async () => {
    for (const name of ['set-1', 'set-2', 'set-3']) await c.api('post', `${NS}/pods`, { body: podManifest(name, { labels: { type: 'Testing' } }), expect: 201 });
    assert.equal((await c.api('get', `${NS}/pods?labelSelector=type%3DTesting`)).items.length, 3);
    await c.api('delete', `${NS}/pods?labelSelector=type%3DTesting`, { body: { gracePeriodSeconds: 0 } });
    await until(async () => ((await c.api('get', `${NS}/pods?labelSelector=type%3DTesting`)).items.length === 0 ? true : undefined), 'the pods to go');
  });

  test('Pods, assigned hostip', async () => {
    await c.api('post', `${NS}/pods`, { body: podManifest('hostip'), expect: 201 });
    const p = await waitPod('hostip', 'a host IP', (x) => Boolean(x.status?.hostIP));
    assert.notEqual(isIP(p.status.hostIP), 0);
    assert.equal(p.status.hostIPs[0].ip, p.status.hostIP);
  });

  test('Pods, patching status', async () => {
    await c.api('post', `${NS}/pods`, { body: podManifest('status-patch'), expect: 201 });
    await running('status-patch');
    const patched = await c.api('patch', `${NS}/pods/status-patch/status`, {
      body: { status: { message: 'Patched by e2e test', reason: 'E2E' } }, contentType: 'application/strategic-merge-patch+json',
    });
    assert.equal(patched.status.message, 'Patched by e2e test');
    assert.equal(patched.status.reason, 'E2E');
    const read = await pod('status-patch');
    assert.equal(read.status.message, 'Patched by e2e test');
  });

  test('Pods, completes the lifecycle of a Pod and the PodStatus', async () => {
    await c.api('post', `${NS}/pods`, { body: podManifest('full-lifecycle', { labels: { 'test-pod-static': 'true' } }), expect: 201 });
    await running('full-lifecycle');
    const patched = await c.api('patch', `${NS}/pods/full-lifecycle`, {
      body: { metadata: { labels: { 'test-pod': 'patched' } }, spec: { activeDeadlineSeconds: 5000 } }, contentType: 'application/strategic-merge-patch+json',
    });
    assert.equal(patched.metadata.labels['test-pod'], 'patched');
    const status = await c.api('get', `${NS}/pods/full-lifecycle/status`);
    assert.equal(status.status.phase, 'Running');
    const conditions = status.status.conditions.map((x: Json) => (x.type === 'Ready' ? { ...x, status: 'False' } : x));
    conditions.push({ type: 'PodReplaced', status: 'True', reason: 'E2E' });
    const replaced = await c.api('put', `${NS}/pods/full-lifecycle/status`, { body: { ...status, status: { ...status.status, conditions } } });
    assert.ok(replaced.status.conditions.some((x: Json) => x.type === 'PodReplaced' && x.status === 'True'));
    await c.api('delete', `${NS}/pods/full-lifecycle`, { body: { gracePeriodSeconds: 0 } });
    await until(async () => ((await c.raw('get', `${NS}/pods/full-lifecycle`)).status === 404 ? true : undefined), 'the pod to go');
  });

  test('Pods, ActiveDeadlineSeconds', async () => {
    await c.api('post', `${NS}/pods`, { body: podManifest('deadline', { labels: { deadline: 'yes' } }), expect: 201 });
    assert.equal((await c.api('get', `${NS}/pods?labelSelector=deadline%3Dyes`)).items.length, 1);
    await running('deadline');
    await c.api('patch', `${NS}/pods/deadline`, { body: { spec: { activeDeadlineSeconds: 2 } }, contentType: 'application/strategic-merge-patch+json' });
    const failed = await waitPod('deadline', 'Failed by its deadline', (p) => p.status?.phase === 'Failed');
    assert.equal(failed.status.reason, 'DeadlineExceeded');
    assert.equal(failed.status.message, 'Pod was active on the node longer than the specified deadline');
  });

  test('Kubelet, failed pod, delete', async () => {
    await c.api('post', `${NS}/pods`, { body: podManifest('bin-false-delete', { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['/bin/false'] }] } }), expect: 201 });
    await waitPod('bin-false-delete', 'Failed', (p) => p.status?.phase === 'Failed');
    await c.api('delete', `${NS}/pods/bin-false-delete`);
    await until(async () => ((await c.raw('get', `${NS}/pods/bin-false-delete`)).status === 404 ? true : undefined), 'the pod to go');
  });

  test('Kubelet, failed pod, terminated reason', async () => {
    await c.api('post', `${NS}/pods`, { body: podManifest('bin-false', { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['/bin/false'] }] } }), expect: 201 });
    const failed = await waitPod('bin-false', 'terminated', (p) => Boolean(p.status?.containerStatuses?.[0]?.state?.terminated));
    assert.equal(failed.status.containerStatuses.length, 1);
    const terminated = failed.status.containerStatuses[0].state.terminated;
    assert.equal(terminated.reason, 'Error');
    assert.equal(terminated.exitCode, 1);
  });

  test('Container Runtime, Restart Policy, Pod Phases', async () => {
    const cases: { name: string; policy: string; code: number; phase: string; restarted: boolean }[] = [
      { name: 'rp-always', policy: 'Always', code: 0, phase: 'Running', restarted: true },
      { name: 'rp-onfailure-fail', policy: 'OnFailure', code: 1, phase: 'Running', restarted: true },
      { name: 'rp-onfailure-ok', policy: 'OnFailure', code: 0, phase: 'Succeeded', restarted: false },
      { name: 'rp-never', policy: 'Never', code: 1, phase: 'Failed', restarted: false },
    ];
    for (const k of cases) {
      await c.api('post', `${NS}/pods`, { body: podManifest(k.name, { spec: { restartPolicy: k.policy, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', `exit ${k.code}`] }] } }), expect: 201 });
    }
    for (const k of cases) {
      const p = await waitPod(k.name, `phase ${k.phase}${k.restarted ? ' after a restart' : ''}`, (x) => {
        const restarts = x.status?.containerStatuses?.[0]?.restartCount ?? 0;
        return (k.restarted ? restarts > 0 : x.status?.phase === k.phase) ? true : false;
      });
      assert.equal(p.status.phase, k.phase, k.name);
      if (!k.restarted) assert.equal(p.status.containerStatuses[0].restartCount, 0, k.name);
    }
  });

  test('Sysctls, reject invalid sysctls', async () => {
    const sysctls = [{ name: 'kernel.shmmax', value: '100000000' }, { name: 'foo-', value: 'bar' }, { name: 'kernel.shmall', value: '100000000' }, { name: 'bar..', value: '42' }];
    const res = await c.raw('post', `${NS}/pods`).set('Content-Type', 'application/json')
      .send(JSON.stringify(podManifest('sysctls', { spec: { securityContext: { sysctls } } }))).expect(422);
    assert.match(res.body.message, /foo-/);
    assert.match(res.body.message, /bar\.\./);
    assert.doesNotMatch(res.body.message, /kernel\.shmmax/);
    assert.doesNotMatch(res.body.message, /kernel\.shmall/);
    await c.api('get', `${NS}/pods/sysctls`, { expect: 404 });
  });
});
