// Conformance entries of sig-scheduling that the bundled scheduler answers: resource fit, node
// selectors, host ports.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, podManifest, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const NS = '/api/v1/namespaces/default';

describe('conformance: scheduling', () => {
  let c: ConformanceCluster;
  before(async () => { c = await startConformanceCluster('scheduling', { nodes: 2 }); });
  after(async () => { await c.stop(); });

  const pod = (name: string) => c.api('get', `${NS}/pods/${name}`);
  const scheduledOn = (name: string) => until(async () => (await pod(name)).spec.nodeName as string | undefined, `pod ${name} to be scheduled`);
  const unschedulable = (name: string) => until(async () => {
    const condition = (await pod(name)).status?.conditions?.find((x: Json) => x.type === 'PodScheduled');
    return condition?.status === 'False' && condition.reason === 'Unschedulable' ? condition : undefined;
  }, `pod ${name} to be reported unschedulable`);
  const nodes = async () => (await until(async () => {
    const list = await c.api('get', '/api/v1/nodes');
    return list.items.length >= 2 ? list.items : undefined;
  }, 'two nodes')) as Json[];

  test('Scheduler, resource limits', async () => {
    // Fill each node to its allocatable CPU (less a little), then one more pod cannot fit anywhere.
    const all = await nodes();
    for (const node of all) {
      const milli = Math.floor(Number.parseFloat(node.status.allocatable.cpu) * 1000) - 100;
      await c.api('post', `${NS}/pods`, { body: podManifest(`filler-${node.metadata.name}`, { spec: {
        nodeSelector: { 'kubernetes.io/hostname': node.metadata.name },
        containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: `${milli}m` }, limits: { cpu: `${milli}m` } } }],
      } }), expect: 201 });
      assert.equal(await scheduledOn(`filler-${node.metadata.name}`), node.metadata.name);
    }
    const resources = { requests: { cpu: '500m' }, limits: { cpu: '500m' } };
    await c.api('post', `${NS}/pods`, { body: podManifest('additional-pod', { spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources }] } }), expect: 201 });
    const condition = await unschedulable('additional-pod');
    assert.match(condition.message, /Insufficient cpu/);
    assert.equal((await pod('additional-pod')).spec.nodeName, undefined);
    for (const node of all) await c.api('delete', `${NS}/pods/filler-${node.metadata.name}`, { body: { gracePeriodSeconds: 0 } });
    await c.api('delete', `${NS}/pods/additional-pod`, { body: { gracePeriodSeconds: 0 } });
  });

  test('Scheduler, node selector matching', async () => {
    const [node] = await nodes();
    const label = 'kubernetes.io/e2e-node-selector';
    await c.api('patch', `/api/v1/nodes/${node.metadata.name}`, { body: { metadata: { labels: { [label]: '42' } } }, contentType: 'application/strategic-merge-patch+json' });
    await c.api('post', `${NS}/pods`, { body: podManifest('with-labels', { spec: { nodeSelector: { [label]: '42' } } }), expect: 201 });
    assert.equal(await scheduledOn('with-labels'), node.metadata.name);
    await c.api('patch', `/api/v1/nodes/${node.metadata.name}`, { body: { metadata: { labels: { [label]: null } } }, contentType: 'application/strategic-merge-patch+json' });
  });

  test('Scheduler, node selector not matching', async () => {
    await c.api('post', `${NS}/pods`, { body: podManifest('restricted-pod', { spec: { nodeSelector: { label: 'nonempty' } } }), expect: 201 });
    const condition = await unschedulable('restricted-pod');
    assert.match(condition.message, /didn't match Pod's node affinity\/selector/);
    assert.equal((await pod('restricted-pod')).spec.nodeName, undefined);
  });

  test('Scheduling, HostPort and Protocol match, HostIPs different but one is default HostIP (0.0.0.0)', async () => {
    const [node] = await nodes();
    const port = (hostIP: string) => ({ spec: {
      nodeSelector: { 'kubernetes.io/hostname': node.metadata.name },
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 8080, hostPort: 54322, protocol: 'TCP', hostIP }] }],
    } });
    await c.api('post', `${NS}/pods`, { body: podManifest('pod4', port('0.0.0.0')), expect: 201 });
    assert.equal(await scheduledOn('pod4'), node.metadata.name);
    await c.api('post', `${NS}/pods`, { body: podManifest('pod5', port(node.status.addresses.find((a: Json) => a.type === 'InternalIP').address)), expect: 201 });
    const condition = await unschedulable('pod5');
    assert.match(condition.message, /free ports/);
  });
});
