// StatefulSet claims end to end: `kubefacade up` driven by the real kubectl. A default StorageClass and two
// PersistentVolumes (static provisioning: no dynamic provisioner runs here), a StatefulSet of 2 with a
// volumeClaimTemplate: the claims are created and Bound, scaling down with whenScaled Delete removes the
// condemned pod's claim, and a claim no volume can satisfy keeps its pod Pending with kube-scheduler's message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kubectl, parseColumns } from './helpers/kubectl.ts';
import { eventually, startCli, type CliProcess } from './helpers/cluster-processes.ts';

const STORAGE = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-a}
spec:
  storageClassName: standard
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/pv-a}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-b}
spec:
  storageClassName: standard
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/pv-b}
`;

const STATEFUL_SET = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        volumeMounts:
        - {name: data, mountPath: /usr/share/nginx/html}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 1Gi}
`;

describe('StatefulSet claims with kubefacade up, driven by kubectl', () => {
  let dataDir: string;
  let up: CliProcess;
  let kubectl: Kubectl;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-sts-claims-'));
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--kubelet-port', '0', '--nodes', '2', '--image-pull-delay', '100ms']);
    await up.waitForOutput(/kubefacade is up: API server (https:\/\/127\.0\.0\.1:\d+), nodes (.+)\n/);
    const [, kubeconfigPath] = await up.waitForOutput(/kubectl --kubeconfig (\S+) get nodes/);
    kubectl = await Kubectl.create(kubeconfigPath);
  });

  after(async () => {
    await kubectl?.dispose();
    await up?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  const claims = async (): Promise<string[][]> => parseColumns(await kubectl.ok(['get', 'pvc'])).slice(1);

  test('claims data-web-0 and data-web-1 Bound; scaling to 1 with whenScaled Delete removes data-web-1', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: STORAGE });
    await kubectl.ok(['apply', '-f', '-'], { input: STATEFUL_SET });
    await kubectl.ok(['rollout', 'status', 'sts/web', '--timeout=90s']);
    const bound = await eventually('both claims Bound', async () => {
      const rows = await claims();
      return rows.length === 2 && rows.every((row) => row[1] === 'Bound') ? rows : undefined;
    }, 60_000);
    assert.deepEqual(parseColumns(await kubectl.ok(['get', 'pvc']))[0].slice(0, 6), ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS']);
    assert.deepEqual(bound.map((row) => row[0]), ['data-web-0', 'data-web-1']);
    assert.deepEqual(new Set(bound.map((row) => row[2])), new Set(['pv-a', 'pv-b']));
    for (const row of bound) assert.deepEqual(row.slice(3, 6), ['1Gi', 'RWO', 'standard'], 'capacity, access modes and the default class');
    assert.equal(await kubectl.ok(['get', 'pod', 'web-1', '-o', 'jsonpath={.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}']), 'data-web-1');
    const described = await kubectl.ok(['describe', 'sts', 'web']);
    assert.match(described, /SuccessfulCreate\s+\S+\s+statefulset-controller\s+create Claim data-web-0 Pod web-0 in StatefulSet web success/);

    await kubectl.ok(['scale', 'sts/web', '--replicas=1']);
    await eventually('data-web-1 deleted with web-1', async () => {
      const rows = await claims();
      return rows.length === 1 && rows[0][0] === 'data-web-0' ? true : undefined;
    }, 60_000);
    assert.equal((await kubectl.run(['get', 'pod', 'web-1'])).code, 1, 'web-1 is gone');
  });

  test('a claim no volume satisfies keeps its pod Pending with the scheduler\'s unbound-claim message', async () => {
    // data-web-1's volume is Released (its claimRef still names the deleted claim): nothing is Available.
    await kubectl.ok(['scale', 'sts/web', '--replicas=2']);
    await eventually('web-1 unschedulable', async () => {
      const message = await kubectl.ok(['get', 'pod', 'web-1', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}']);
      return message ? message : undefined;
    }, 60_000).then((message) => assert.equal(message,
      '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.'));
    assert.equal(await kubectl.ok(['get', 'pvc', 'data-web-1', '-o', 'jsonpath={.status.phase}']), 'Pending');
    assert.match(await kubectl.ok(['describe', 'pod', 'web-1']), /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/2 nodes are available: pod has unbound immediate PersistentVolumeClaims\./);
    // A new volume binds the claim and the pod is scheduled.
    await kubectl.ok(['apply', '-f', '-'], { input: STORAGE.split('---\n')[1].replace(/pv-a/g, 'pv-c') });
    await kubectl.ok(['rollout', 'status', 'sts/web', '--timeout=90s']);
    assert.equal(await kubectl.ok(['get', 'pvc', 'data-web-1', '-o', 'jsonpath={.spec.volumeName}']), 'pv-c');
  });
});
