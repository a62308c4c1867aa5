// `up` gives every component its own least-privilege identity: the scheduler and the controller manager
// have client certificates, each simulated node a `system:node:<name>` token. A pod still goes to
// Running, every write is made by the identity it belongs to (per the audit log), and a node identity
// cannot touch another node's Node, Lease or pods.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationV1Api, CoordinationV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { startCluster, type RunningCluster } from '../server/up.ts';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

function clients(kubeconfigPath: string) {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return { config, core: config.makeApiClient(CoreV1Api), coordination: config.makeApiClient(CoordinationV1Api), authn: config.makeApiClient(AuthenticationV1Api) };
}

/** The API error a client-node call failed with: [HTTP code, Status message]. */
async function refusal(call: Promise<unknown>): Promise<[number, string]> {
  try {
    await call;
  } catch (err) {
    const e = err as { code?: number; body?: string };
    return [e.code ?? 0, (JSON.parse(e.body ?? '{}') as { message?: string }).message ?? ''];
  }
  return [0, 'allowed'];
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('up with least-privilege component identities', () => {
  let dir: string;
  let cluster: RunningCluster;
  let admin: ReturnType<typeof clients>;
  let pod: V1Pod;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-up-auth-'));
    cluster = await startCluster({
      dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], auditLogPath: join(dir, 'audit.log'),
      nodes: 2, nodeCpu: '4', nodeMemory: '8Gi', nodePods: 110, imagePullDelayMs: 50, kubeletPort: 0,
      nodeMonitorGracePeriodSeconds: 40, quiet: true,
    });
    admin = clients(cluster.apiServer.adminKubeconfigPath);
    await admin.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } });
    pod = await eventually(async () => {
      const current = await admin.core.readNamespacedPod({ name: 'web', namespace: 'default' });
      return current.status?.phase === 'Running' ? current : undefined;
    }, 'pod web Running');
  });

  after(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('each component kubeconfig authenticates as its own identity', async () => {
    const whoami = async (file: string) => ({ ...(await clients(join(dir, file)).authn.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } })).status?.userInfo });
    assert.deepEqual(await whoami('scheduler.kubeconfig'), { username: 'system:kube-scheduler', groups: ['system:authenticated'] });
    assert.deepEqual(await whoami('controller-manager.kubeconfig'), { username: 'system:kube-controller-manager', groups: ['system:authenticated'] });
    assert.deepEqual(await whoami('kubelet.kubeconfig'), { username: 'kubefacade:kubelet-watcher', groups: ['system:authenticated'] });
    assert.deepEqual(await whoami('nodes/node01.kubeconfig'), { username: 'system:node:node01', groups: ['system:nodes', 'system:authenticated'] });
    const config = await readFile(join(dir, 'scheduler.kubeconfig'), 'utf8');
    assert.match(config, /certificate-authority-data: /);
    assert.match(config, /client-certificate-data: /);
  });

  test('the pod ran: bound by the scheduler, run and reported by its own node', async () => {
    const nodeName = pod.spec?.nodeName ?? '';
    assert.match(nodeName, /^node0[12]$/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const events = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as {
      stage: string; verb: string; user: { username: string }; objectRef?: { resource?: string; subresource?: string; name?: string; namespace?: string }; responseStatus: { code: number };
    }).filter((e) => e.stage === 'ResponseComplete');
    const writers = (resource: string, subresource: string | undefined, name: string) => new Set(events
      .filter((e) => e.objectRef?.resource === resource && e.objectRef.subresource === subresource && e.objectRef.name === name && WRITES.has(e.verb) && e.responseStatus.code < 300)
      .map((e) => e.user.username));
    assert.deepEqual(writers('pods', 'binding', 'web'), new Set(['system:kube-scheduler']));
    assert.deepEqual(writers('pods', 'status', 'web'), new Set([`system:node:${nodeName}`]));
    const leaseWriters = new Set(events.filter((e) => e.objectRef?.resource === 'leases' && e.objectRef.namespace === 'kube-node-lease' && WRITES.has(e.verb)).map((e) => e.user.username));
    assert.deepEqual(leaseWriters, new Set(['system:node:node01', 'system:node:node02']));
    assert.deepEqual(writers('nodes', 'status', 'node02'), new Set(['system:node:node02']));
    // No component ever fell back to a privileged identity, and none was refused.
    assert.deepEqual(events.filter((e) => e.user.username === 'kubernetes-admin' && WRITES.has(e.verb) && e.objectRef?.resource !== 'pods').map((e) => e.verb), []);
    assert.deepEqual(events.filter((e) => e.responseStatus.code === 403).map((e) => `${e.user.username} ${e.verb} ${e.objectRef?.resource}`), []);
  });

  test('a node identity cannot modify another node\'s Node, Lease or pods', async () => {
    const ownNode = pod.spec!.nodeName!;
    const other = ownNode === 'node01' ? 'node02' : 'node01';
    const foreign = clients(join(dir, 'nodes', `${other}.kubeconfig`));
    const own = clients(join(dir, 'nodes', `${ownNode}.kubeconfig`));
    assert.equal((await own.core.readNode({ name: ownNode })).metadata?.name, ownNode);
    assert.deepEqual(await refusal(foreign.core.patchNode({ name: ownNode, body: { metadata: { labels: { evil: 'yes' } } } }, MERGE)),
      [403, `nodes "${ownNode}" is forbidden: node "${other}" is not allowed to modify node "${ownNode}"`]);
    assert.deepEqual(await refusal(foreign.core.patchNodeStatus({ name: ownNode, body: { status: { conditions: [] } } }, MERGE)),
      [403, `nodes "${ownNode}" is forbidden: node "${other}" is not allowed to modify node "${ownNode}"`]);
    assert.deepEqual(await refusal(foreign.core.readNode({ name: ownNode })),
      [403, `nodes "${ownNode}" is forbidden: User "system:node:${other}" cannot get resource "nodes" in API group "" at the cluster scope: node '${other}' cannot read '${ownNode}', only its own Node object`]);
    assert.deepEqual(await refusal(foreign.core.patchNamespacedPodStatus({ name: 'web', namespace: 'default', body: { status: { phase: 'Failed' } } }, MERGE)),
      [403, `pods "web" is forbidden: node "${other}" can only update pod status for pods with spec.nodeName set to itself`]);
    assert.deepEqual(await refusal(foreign.core.deleteNamespacedPod({ name: 'web', namespace: 'default' })),
      [403, `pods "web" is forbidden: node "${other}" can only delete pods with spec.nodeName set to itself`]);
    assert.deepEqual(await refusal(foreign.core.readNamespacedPod({ name: 'web', namespace: 'default' })),
      [403, `pods "web" is forbidden: User "system:node:${other}" cannot get resource "pods" in API group "" in the namespace "default": no relationship found between node '${other}' and this object`]);
    assert.deepEqual(await refusal(foreign.core.listPodForAllNamespaces()),
      [403, `pods is forbidden: User "system:node:${other}" cannot list resource "pods" in API group "" at the cluster scope: can only list/watch pods with spec.nodeName field selector`]);
    const lease = await admin.coordination.readNamespacedLease({ name: ownNode, namespace: 'kube-node-lease' });
    assert.deepEqual(await refusal(foreign.coordination.replaceNamespacedLease({ name: ownNode, namespace: 'kube-node-lease', body: lease })),
      [403, `leases.coordination.k8s.io "${ownNode}" is forbidden: User "system:node:${other}" cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node`]);
    // Nothing changed: the pod still runs on its node.
    const after = await admin.core.readNamespacedPod({ name: 'web', namespace: 'default' });
    assert.deepEqual([after.status?.phase, after.metadata?.deletionTimestamp], ['Running', undefined]);
  });

  test('the scheduler, the controller manager and the kubelet watcher hold no more than their roles', async () => {
    const scheduler = clients(join(dir, 'scheduler.kubeconfig'));
    assert.deepEqual(await refusal(scheduler.core.deleteNode({ name: 'node01' })),
      [403, 'nodes "node01" is forbidden: User "system:kube-scheduler" cannot delete resource "nodes" in API group "" at the cluster scope']);
    assert.deepEqual(await refusal(scheduler.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'i' }] } } })),
      [403, 'pods is forbidden: User "system:kube-scheduler" cannot create resource "pods" in API group "" in the namespace "default"']);
    const kcm = clients(join(dir, 'controller-manager.kubeconfig'));
    assert.deepEqual(await refusal(kcm.core.createNamespace({ body: { metadata: { name: 'x' } } })),
      [403, 'namespaces is forbidden: User "system:kube-controller-manager" cannot create resource "namespaces" in API group "" at the cluster scope']);
    const watcher = clients(join(dir, 'kubelet.kubeconfig'));
    assert.equal((await watcher.core.listPodForAllNamespaces()).items.length, 1);
    assert.deepEqual(await refusal(watcher.core.patchNamespacedPodStatus({ name: 'web', namespace: 'default', body: { status: { phase: 'Failed' } } }, MERGE)),
      [403, 'pods "web" is forbidden: User "kubefacade:kubelet-watcher" cannot patch resource "pods/status" in API group "" in the namespace "default"']);
  });
});
