// The horizontal pod autoscaler end to end with the real kubectl against `kubefacade up`: `kubectl autoscale`
// creates an autoscaling/v2 HPA, `kubectl get hpa` shows its TARGETS once the controller has measured the pods
// through metrics.k8s.io, and raising the pods' usage annotation scales the Deployment up with upstream's event.
// The sync period is 1 s and the CPU initialization period 0 (kube-controller-manager's flags), so new pods count
// at once; everything else is upstream's default.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kubectl, parseColumns } from './helpers/kubectl.ts';
import { eventually, startCli, type CliProcess } from './helpers/cluster-processes.ts';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        resources:
          requests: {cpu: 100m}
`;

describe('HorizontalPodAutoscaler with kubefacade up, driven by kubectl', () => {
  let dataDir: string;
  let up: CliProcess;
  let kubectl: Kubectl;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-hpa-'));
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--kubelet-port', '0', '--nodes', '2', '--image-pull-delay', '100ms',
      '--horizontal-pod-autoscaler-sync-period', '1s', '--horizontal-pod-autoscaler-cpu-initialization-period', '0s']);
    await up.waitForOutput(/kubefacade is up: API server (https:\/\/127\.0\.0\.1:\d+), nodes (.+)\n/);
    const [, kubeconfigPath] = await up.waitForOutput(/kubectl --kubeconfig (\S+) get nodes/);
    kubectl = await Kubectl.create(kubeconfigPath);
    await writeFile(join(dataDir, 'web.yaml'), DEPLOYMENT);
    await kubectl.ok(['apply', '-f', join(dataDir, 'web.yaml')]);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  });

  after(async () => {
    await kubectl?.dispose();
    await up?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('kubectl autoscale, then get hpa shows the measured CPU utilization against the target', async () => {
    assert.equal(await kubectl.ok(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=5']), 'horizontalpodautoscaler.autoscaling/web autoscaled\n');
    const row = await eventually('the HPA to report a utilization', async () => {
      const rows = parseColumns(await kubectl.ok(['get', 'hpa', 'web']));
      return /^cpu: \d+%\/50%$/.test(rows[1]?.[2] ?? '') ? rows : undefined;
    });
    assert.deepEqual(row[0], ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    assert.deepEqual(row[1].slice(0, 2), ['web', 'Deployment/web']);
    assert.deepEqual(row[1].slice(3, 6), ['1', '5', '1']);
    // The simulated usage is 10-50 % of the request: below the target, and one replica is the minimum.
    assert.ok(Number(/(\d+)%\//.exec(row[1][2])?.[1]) <= 50, row[1][2]);
    // Served as autoscaling/v1 too, with the target as targetCPUUtilizationPercentage.
    assert.equal(await kubectl.ok(['get', 'horizontalpodautoscalers.v1.autoscaling', 'web', '-o', 'jsonpath={.spec.targetCPUUtilizationPercentage}']), '50');
    const conditions = JSON.parse(await kubectl.ok(['get', 'hpa', 'web', '-o', 'jsonpath={.status.conditions}'])) as { type: string; status: string; reason: string }[];
    assert.deepEqual(conditions.map((c) => `${c.type}=${c.status}`).sort(), ['AbleToScale=True', 'ScalingActive=True', 'ScalingLimited=False']);
    assert.equal(conditions.find((c) => c.type === 'ScalingActive')?.reason, 'ValidMetricFound');
  });

  test('raising the usage annotation scales the Deployment up, with upstream\'s SuccessfulRescale event', async () => {
    await kubectl.ok(['annotate', 'pods', '-l', 'app=web', 'kubefacade.io/cpu-usage=200m', '--overwrite']);
    // 200m of a 100m request is 200 %: ceil(1 × 200 / 50) = 4, within max(2 × 1, 4).
    await eventually('the Deployment to be scaled up', async () => {
      const replicas = Number(await kubectl.ok(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']));
      return replicas >= 4 ? replicas : undefined;
    }, 30_000);
    const described = await kubectl.ok(['describe', 'hpa', 'web']);
    assert.match(described, /SuccessfulRescale\s+.*?horizontal-pod-autoscaler\s+New size: 4; reason: cpu resource utilization \(percentage of request\) above target/);
    assert.match(described, /AbleToScale\s+True\s+SucceededRescale|AbleToScale\s+True\s+ReadyForNewScale|AbleToScale\s+True\s+ScaleDownStabilized/);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    const rows = await eventually('get hpa to show the new replica count', async () => {
      const table = parseColumns(await kubectl.ok(['get', 'hpa', 'web']));
      return Number(table[1][5]) >= 4 && /^cpu: \d+%\/50%$/.test(table[1][2]) ? table : undefined;
    }, 30_000);
    assert.deepEqual(rows[1].slice(0, 2), ['web', 'Deployment/web']);
  });

  test('pods without a CPU request: ScalingActive False with upstream\'s reason, message and Warning event', async () => {
    await kubectl.ok(['create', 'deployment', 'bare', '--image=nginx:1.27']);
    await kubectl.ok(['rollout', 'status', 'deployment/bare', '--timeout=60s']);
    await kubectl.ok(['autoscale', 'deployment', 'bare', '--cpu-percent=50', '--max=3']);
    const active = await eventually('the HPA to report why it cannot scale', async () => {
      const conditions = JSON.parse(await kubectl.ok(['get', 'hpa', 'bare', '-o', 'jsonpath={.status.conditions}']) || '[]') as { type: string; status: string; reason: string; message: string }[];
      return conditions.find((c) => c.type === 'ScalingActive' && c.status === 'False');
    });
    assert.equal(active.reason, 'FailedGetResourceMetric');
    assert.match(active.message, /^the HPA was unable to compute the replica count: failed to get cpu resource metric value: failed to get cpu utilization: missing request for cpu in container nginx of Pod bare-\S+$/);
    const described = await kubectl.ok(['describe', 'hpa', 'bare']);
    assert.match(described, /Warning\s+FailedGetResourceMetric\s+.*?horizontal-pod-autoscaler\s+failed to get cpu resource metric value: failed to get cpu utilization: missing request for cpu in container nginx of Pod bare-/);
    assert.match(described, /FailedComputeMetricsReplicas\s+.*?horizontal-pod-autoscaler\s+invalid metrics \(1 invalid out of 1\), first error is: failed to get cpu resource metric value/);
    assert.equal(await kubectl.ok(['get', 'deployment', 'bare', '-o', 'jsonpath={.spec.replicas}']), '1');
  });
});
