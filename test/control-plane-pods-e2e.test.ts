// The control plane in kube-system, as kubeadm shows it, with the real kubectl against `kubefacade up --v 2`:
// mirror pods of kube-apiserver, kube-scheduler, kube-controller-manager and the store on the first node, Running
// since the process started, owned by the Node and annotated as mirror pods; `kubectl logs` shows the component's
// own klog lines (the scheduler's V(2) line per binding); a deleted mirror pod is recreated by the kubelet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kubectl, parseColumns } from './helpers/kubectl.ts';
import { eventually, startCli, type CliProcess } from './helpers/cluster-processes.ts';

const COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'leveldb'];

describe('control-plane mirror pods with kubefacade up', () => {
  let dataDir: string;
  let up: CliProcess;
  let kubectl: Kubectl;
  let startedBeforeMs: number;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-control-plane-'));
    startedBeforeMs = Date.now();
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--kubelet-port', '0', '--nodes', '2', '--v', '2', '--scheduler-metrics-port', '0', '--image-pull-delay', '100ms']);
    await up.waitForOutput(/kubefacade is up: API server (https:\/\/127\.0\.0\.1:\d+), nodes (.+)\n/);
    const [, kubeconfigPath] = await up.waitForOutput(/kubectl --kubeconfig (\S+) get nodes/);
    kubectl = await Kubectl.create(kubeconfigPath);
  });

  after(async () => {
    await kubectl?.dispose();
    await up?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('kubectl get pods -n kube-system lists the components Running on node01, as mirror pods of the node', async () => {
    const rows = await eventually('the mirror pods to run', async () => {
      const table = parseColumns(await kubectl.ok(['get', 'pods', '-n', 'kube-system', '-o', 'wide']));
      return table.length === 5 && table.slice(1).every((row) => row[2] === 'Running') ? table : undefined;
    });
    assert.deepEqual(rows.slice(1).map((row) => [row[0], row[1], row[2], row[6]]), COMPONENTS.map((name) => [`${name}-node01`, '1/1', 'Running', 'node01']));
    const pod = JSON.parse(await kubectl.ok(['get', 'pod', '-n', 'kube-system', 'kube-scheduler-node01', '-o', 'json']));
    assert.ok(pod.metadata.annotations['kubernetes.io/config.mirror'], 'mirror annotation');
    assert.equal(pod.metadata.annotations['kubernetes.io/config.source'], 'file');
    assert.deepEqual(pod.metadata.labels, { component: 'kube-scheduler', tier: 'control-plane' });
    assert.deepEqual([pod.metadata.ownerReferences[0].kind, pod.metadata.ownerReferences[0].name, pod.metadata.ownerReferences[0].controller], ['Node', 'node01', true]);
    assert.equal(pod.spec.serviceAccountName, undefined, 'mirror pods have no service account');
    assert.equal(pod.spec.priority, 2000001000);
    // Running since the process started (the same start for every component), not since the pod object was made.
    const startTime = Date.parse(pod.status.startTime);
    assert.ok(startTime <= Date.parse(pod.metadata.creationTimestamp) && startTime >= startedBeforeMs - 2000, `${pod.status.startTime} vs ${startedBeforeMs}`);
    assert.equal(pod.status.containerStatuses[0].state.running.startedAt, pod.status.startTime);
  });

  test('kubectl logs shows the component\'s own klog lines: the scheduler logs each binding at --v=2', async () => {
    await kubectl.ok(['run', 'logged', '--image=nginx:1.27']);
    const logs = await eventually('the binding line', async () => {
      const text = await kubectl.ok(['logs', '-n', 'kube-system', 'kube-scheduler-node01']);
      return /"Successfully bound pod to node" pod="default\/logged" node="node0\d" evaluatedNodes=2 feasibleNodes=2/.test(text) ? text : undefined;
    });
    assert.match(logs.split('\n')[0], /^I\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ kube-scheduler\] "scheduler started" schedulerName="default-scheduler" metrics="https:\/\/127\.0\.0\.1:\d+\/metrics"$/);
    assert.match(await kubectl.ok(['logs', '-n', 'kube-system', 'kube-apiserver-node01']), /kube-apiserver\] Serving securely on 127\.0\.0\.1:\d+/);
    assert.match(await kubectl.ok(['logs', '-n', 'kube-system', 'leveldb-node01']), /"Storage opened" backend="LevelDB in /);
    const tail = await kubectl.ok(['logs', '-n', 'kube-system', 'kube-scheduler-node01', '--tail=1', '--timestamps']);
    assert.match(tail, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z I/);
    const previous = await kubectl.run(['logs', '-n', 'kube-system', 'kube-scheduler-node01', '--previous']);
    assert.notEqual(previous.code, 0);
    // The kubelets narrate at --v=2 too (on stderr: the kubelet is not a pod under kubeadm either).
    await up.waitForOutput(/"SyncLoop ADD" source="api" pods=\["default\/logged"\]/);
    await up.waitForOutput(/"SyncLoop \(PLEG\): event for pod" pod="default\/logged" event=\{"ID":"[^"]+","Type":"ContainerStarted","Data":"logged"\}/);
  });

  test('a deleted mirror pod is recreated by the kubelet', async () => {
    const before = await kubectl.ok(['get', 'pod', '-n', 'kube-system', 'kube-controller-manager-node01', '-o', 'jsonpath={.metadata.uid}']);
    await kubectl.ok(['delete', 'pod', '-n', 'kube-system', 'kube-controller-manager-node01']);
    await eventually('the mirror pod to come back', async () => {
      const result = await kubectl.run(['get', 'pod', '-n', 'kube-system', 'kube-controller-manager-node01', '-o', 'jsonpath={.metadata.uid} {.status.phase}']);
      const [uid, phase] = result.stdout.split(' ');
      return result.code === 0 && uid !== before && phase === 'Running' ? uid : undefined;
    });
  });

  test('restarted with --control-plane-pods=false, the kubelet deletes the mirror pods it no longer has static pods for', async () => {
    await kubectl.dispose();
    await up.kill('SIGKILL');
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--kubelet-port', '0', '--nodes', '2', '--control-plane-pods=false', '--scheduler-metrics-port', '0']);
    await up.waitForOutput(/kubefacade is up: API server (https:\/\/127\.0\.0\.1:\d+), nodes (.+)\n/);
    const [, kubeconfigPath] = await up.waitForOutput(/kubectl --kubeconfig (\S+) get nodes/);
    kubectl = await Kubectl.create(kubeconfigPath);
    await eventually('the orphaned mirror pods to be deleted', async () => {
      const out = await kubectl.ok(['get', 'pods', '-n', 'kube-system', '-o', 'name']);
      return out.trim() === '' ? true : undefined;
    }, 45_000);
  });
});
