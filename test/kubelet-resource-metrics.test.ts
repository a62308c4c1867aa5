// The simulated kubelet's /metrics/resource and /stats/summary: upstream's names, help texts, label sets and
// timestamps (pkg/kubelet/metrics/collectors/resource_metrics.go, k8s.io/kubelet/pkg/apis/stats/v1alpha1), read
// through the API server's node proxy as `kubectl get --raw` reads them and parsed by a Prometheus text parser; the
// values agree with metrics.k8s.io (what `kubectl top` shows); CPU counters only grow, across restarts and deletions;
// the kubelet authorises nodes/metrics and nodes/stats as upstream maps those paths.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { startApiServer } from '../server/start.ts';
import { runKubelets, type RunningKubelets } from '../kubelet/index.ts';
import { containerUsage, cpuSecondsBetween, RESOLUTION_MS, windowStart, type ContainerLike } from '../kubelet/simulated-usage.ts';
import { ResourceStats, type PodUsageInput } from '../kubelet/resource-stats.ts';
import { goFloat, renderResourceMetrics, showHiddenMetrics } from '../kubelet/resource-metrics.ts';
import { Kubectl } from './helpers/kubectl.ts';

const quiet = { info: () => undefined, warn: () => undefined };

describe('simulated usage as a cumulative counter', () => {
  const container: ContainerLike = { name: 'app', resources: { requests: { cpu: '500m' } } };

  test('the closed-form integral equals the sum of the per-window values', () => {
    const bruteForce = (from: number, to: number, override?: number): number => {
      let total = 0;
      for (let t = from; t < to;) {
        const next = Math.min(to, windowStart(t) + RESOLUTION_MS);
        total += containerUsage('uid-9', container, windowStart(t), { cpu: override }).cpuCores * (next - t);
        t = next;
      }
      return total / 1000;
    };
    const base = 1_765_000_000_000;
    for (const [from, to] of [[base + 1_000, base + 9_000], [base + 7_500, base + 16_000], [base, base + 3_600_000], [base + 123, base + 987_654]]) {
      const expected = bruteForce(from, to);
      assert.ok(Math.abs(cpuSecondsBetween('uid-9', container, from, to) - expected) < 1e-6 * Math.max(1, expected), `${from}..${to}`);
    }
    assert.ok(Math.abs(cpuSecondsBetween('uid-9', container, base, base + 60_000, 0.25) - 15) < 1e-9, '250m for a minute is 15 core-seconds');
    const limited: ContainerLike = { name: 'app', resources: { limits: { cpu: '100m' } } };
    assert.ok(Math.abs(cpuSecondsBetween('uid-9', limited, base, base + 10_000, 2) - 1) < 1e-9, 'an override is capped at the limit');
    assert.equal(cpuSecondsBetween('uid-9', container, base + 10, base), 0);
  });

  test('counters only grow: across a restart, a pod deletion, and a lowered usage annotation', () => {
    const start = 1_765_000_000_000;
    const stats = new ResourceStats('node01', start - 60_000, 8 * 2 ** 30);
    const pod = (containerId: string, startedAtMs: number, cpu?: string): PodUsageInput => ({
      uid: 'p1', name: 'web', namespace: 'default', startTimeMs: start,
      containers: [{ name: 'app', resources: { requests: { cpu: '1' } }, containerId, startedAtMs }],
      annotations: { 'kubefacade.io/cpu-usage': cpu },
    });
    const other: PodUsageInput = { uid: 'p2', name: 'db', namespace: 'default', containers: [{ name: 'db', containerId: 'c9', startedAtMs: start }], annotations: {} };
    const reads = [
      stats.sample([pod('c1', start, '2'), other], start + 30_000),
      stats.sample([pod('c1', start, '100m'), other], start + 45_000),
      stats.sample([pod('c2', start + 50_000), other], start + 60_000), // restarted: a new instance from zero
      stats.sample([pod('c2', start + 50_000)], start + 75_000), // the other pod is gone
      stats.sample([], start + 90_000),
    ];
    const first = reads[0].pods[0];
    assert.equal(first.containers[0].cpu.usageCoreNanoSeconds, 60e9, '2 cores for 30 s');
    assert.equal(reads[1].pods[0].containers[0].cpu.usageCoreNanoSeconds, 61.5e9, 'then 100m for 15 s');
    assert.ok(reads[2].pods[0].containers[0].cpu.usageCoreNanoSeconds < 61.5e9, 'the new instance counts from its own start');
    for (let i = 1; i < reads.length; i++) {
      assert.ok(reads[i].node.cpu.usageCoreNanoSeconds >= reads[i - 1].node.cpu.usageCoreNanoSeconds, `node counter at read ${i}`);
    }
    for (let i = 1; i < 4; i++) {
      const before = reads[i - 1].pods.find((p) => p.podRef.uid === 'p1')!;
      const now = reads[i].pods.find((p) => p.podRef.uid === 'p1')!;
      assert.ok(now.cpu.usageCoreNanoSeconds >= before.cpu.usageCoreNanoSeconds, `pod counter at read ${i}`);
    }
    assert.equal(reads[0].node.cpu.usageNanoCores, 2e9 + reads[0].pods[1].cpu.usageNanoCores + 0.1e9, 'node rate: pods plus the system reserve');
    assert.equal(reads[4].pods.length, 0);
  });

  test('scrape_error (deprecated in 1.29) is hidden unless --show-hidden-metrics-for-version=1.31', () => {
    const stats = new ResourceStats('node01', 1_765_000_000_000).sample([], 1_765_000_010_000);
    const hidden = parsePrometheusTextFormat(renderResourceMetrics(stats));
    assert.deepEqual(hidden.map((f) => f.name), ['node_cpu_usage_seconds_total', 'node_memory_working_set_bytes', 'resource_scrape_error']);
    const shown = parsePrometheusTextFormat(renderResourceMetrics(stats, { showHidden: showHiddenMetrics('1.31') }));
    assert.deepEqual(family(shown, 'scrape_error'), {
      name: 'scrape_error', help: '[ALPHA] (Deprecated since 1.29.0) 1 if there was an error while getting container metrics, 0 otherwise',
      type: 'GAUGE', metrics: [{ value: '0' }],
    });
    assert.equal(showHiddenMetrics(undefined), false);
    assert.throws(() => showHiddenMetrics('1.30'), { message: "--show-hidden-metrics-for-version must be omitted or have the value '1.31'. Only the previous minor version is allowed" });
  });

  test('values are written as client_golang writes them (strconv g)', () => {
    assert.deepEqual([0, 1, 1000, 100000, 1e6, 67108864, 1624396248.3020916, 0.00001, 0.5].map(goFloat),
      ['0', '1', '1000', '100000', '1e+06', '6.7108864e+07', '1.6243962483020916e+09', '1e-05', '0.5']);
  });
});

function family(families: MetricFamily[], name: string): MetricFamily {
  const found = families.find((f) => f.name === name);
  assert.ok(found, `${name} in ${families.map((f) => f.name).join(', ')}`);
  return found;
}

interface SummaryJson {
  node: { nodeName: string; startTime: string; systemContainers: { name: string }[]; cpu: { time: string; usageNanoCores: number; usageCoreNanoSeconds: number }; memory: { workingSetBytes: number; availableBytes?: number } };
  pods: { podRef: { name: string; namespace: string; uid: string }; startTime: string; containers: { name: string; startTime: string; cpu: { usageNanoCores: number; usageCoreNanoSeconds: number }; memory: { workingSetBytes: number; availableBytes?: number } }[]; cpu: { usageCoreNanoSeconds: number }; memory: { workingSetBytes: number } }[];
}

describe('kubelet /metrics/resource and /stats/summary', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let kubelets: RunningKubelets;
  let kubectl: Kubectl;
  let kubelet: { host: string; port: number };

  const callKubelet = (path: string, token: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    https.get({ host: kubelet.host, port: kubelet.port, path, rejectUnauthorized: false, agent: false, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });

  /** metrics.k8s.io's view and the kubelet's, read within one 15 s window (retried across a window boundary). */
  async function inOneWindow<T>(read: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const window = windowStart(Date.now());
      const value = await read();
      if (windowStart(Date.now()) === window || attempt === 3) return value;
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-resource-metrics-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    kubelets = await runKubelets({
      kubeconfigPath: server.adminKubeconfigPath, nodeCount: 1, kubeletPort: 0, imagePullDelayMs: 20, stepDelayMs: 5,
      stopDelayMs: 20, leaseRenewIntervalMs: 200, statusUpdateIntervalMs: 200, logger: quiet,
    });
    const config = new KubeConfig();
    config.loadFromFile(server.adminKubeconfigPath);
    const core = config.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'busy', annotations: { 'kubefacade.io/cpu-usage': 'app=750m', 'kubefacade.io/memory-usage': 'app=300Mi' } },
        spec: {
          nodeName: 'node01',
          containers: [
            { name: 'app', image: 'nginx', resources: { requests: { cpu: '1', memory: '200Mi' }, limits: { memory: '512Mi' } } },
            { name: 'side', image: 'redis', resources: { requests: { cpu: '200m', memory: '100Mi' } } },
          ],
        },
      },
    });
    const deadline = Date.now() + 30_000;
    while ((await core.readNamespacedPod({ namespace: 'default', name: 'busy' })).status?.phase !== 'Running') {
      if (Date.now() > deadline) throw new Error('pod busy did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const node = await core.readNode({ name: 'node01' });
    kubelet = {
      host: node.status!.addresses!.find((a) => a.type === 'InternalIP')!.address,
      port: node.status!.daemonEndpoints!.kubeletEndpoint!.Port,
    };
    const rbac = config.makeApiClient(RbacAuthorizationV1Api);
    const group = { apiGroup: 'rbac.authorization.k8s.io' };
    for (const subresource of ['stats', 'metrics']) {
      await rbac.createClusterRole({ body: { metadata: { name: `node-${subresource}` }, rules: [{ apiGroups: [''], resources: [`nodes/${subresource}`], verbs: ['get'] }] } });
      await rbac.createClusterRoleBinding({ body: { metadata: { name: `${subresource}-reader` }, roleRef: { ...group, kind: 'ClusterRole', name: `node-${subresource}` }, subjects: [{ ...group, kind: 'User', name: `${subresource}-reader` }] } });
    }
    kubectl = await Kubectl.create(server.adminKubeconfigPath);
  });

  after(async () => {
    await kubectl?.dispose();
    await kubelets?.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('/metrics/resource through the node proxy: upstream names, help, types, label sets and timestamps', async () => {
    const text = await kubectl.ok(['get', '--raw', '/api/v1/nodes/node01/proxy/metrics/resource']);
    const families = parsePrometheusTextFormat(text);
    assert.deepEqual(families.map((f) => f.name), [
      'container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_start_time_seconds',
      'node_cpu_usage_seconds_total', 'node_memory_working_set_bytes', 'pod_cpu_usage_seconds_total', 'pod_memory_working_set_bytes',
      'resource_scrape_error',
    ]);
    const expected: [string, string, string, string][] = [
      ['container_cpu_usage_seconds_total', 'COUNTER', '[STABLE] Cumulative cpu time consumed by the container in core-seconds', 'container,namespace,pod'],
      ['container_memory_working_set_bytes', 'GAUGE', '[STABLE] Current working set of the container in bytes', 'container,namespace,pod'],
      ['container_start_time_seconds', 'GAUGE', '[STABLE] Start time of the container since unix epoch in seconds', 'container,namespace,pod'],
      ['node_cpu_usage_seconds_total', 'COUNTER', '[STABLE] Cumulative cpu time consumed by the node in core-seconds', ''],
      ['node_memory_working_set_bytes', 'GAUGE', '[STABLE] Current working set of the node in bytes', ''],
      ['pod_cpu_usage_seconds_total', 'COUNTER', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', 'namespace,pod'],
      ['pod_memory_working_set_bytes', 'GAUGE', '[STABLE] Current working set of the pod in bytes', 'namespace,pod'],
      ['resource_scrape_error', 'GAUGE', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', ''],
    ];
    for (const [name, type, help, labels] of expected) {
      const metric = family(families, name);
      assert.equal(metric.type, type, name);
      assert.equal(metric.help, help, name);
      assert.deepEqual([...new Set(metric.metrics.map((m) => Object.keys(m.labels ?? {}).sort().join(',')))], [labels], name);
    }
    assert.deepEqual(family(families, 'container_cpu_usage_seconds_total').metrics.map((m) => m.labels?.container), ['app', 'side']);
    assert.deepEqual(family(families, 'resource_scrape_error').metrics, [{ value: '0' }]);
    // CPU and memory samples carry the time of their statistics (ms); the start time and scrape_error none.
    const now = Date.now();
    for (const name of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'node_cpu_usage_seconds_total', 'pod_memory_working_set_bytes']) {
      for (const sample of family(families, name).metrics as { timestamp_ms?: string }[]) {
        assert.ok(Math.abs(Number(sample.timestamp_ms) - now) < 30_000, `${name} timestamp ${sample.timestamp_ms}`);
      }
    }
    assert.ok(!(family(families, 'container_start_time_seconds').metrics[0] as { timestamp_ms?: string }).timestamp_ms);
    const started = Number(family(families, 'container_start_time_seconds').metrics[0].value);
    assert.ok(started > now / 1000 - 60 && started <= now / 1000, `start time ${started}`);
    // Values as client_golang writes them: the annotated 300Mi working set is 3.145728e+08.
    assert.match(text, /^container_memory_working_set_bytes\{container="app",namespace="default",pod="busy"\} 3\.145728e\+08 \d{13}$/m);
  });

  test('the values agree with metrics.k8s.io (kubectl top), and the counters grow', async () => {
    const [podMetrics, nodeMetrics, text] = await inOneWindow(async () => [
      JSON.parse(await kubectl.ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy'])) as { containers: { name: string; usage: { cpu: string; memory: string } }[] },
      JSON.parse(await kubectl.ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes/node01'])) as { usage: { cpu: string; memory: string } },
      await kubectl.ok(['get', '--raw', '/api/v1/nodes/node01/proxy/metrics/resource']),
    ] as const);
    const families = parsePrometheusTextFormat(text);
    for (const container of podMetrics.containers) {
      const memory = family(families, 'container_memory_working_set_bytes').metrics.find((m) => m.labels?.container === container.name);
      assert.equal(`${Math.round(Number(memory?.value) / 1024)}Ki`, container.usage.memory, container.name);
    }
    const nodeMemory = Number(family(families, 'node_memory_working_set_bytes').metrics[0].value);
    assert.equal(`${Math.round(nodeMemory / 1024)}Ki`, nodeMetrics.usage.memory);
    const cpuOf = (families: MetricFamily[], name: string) => Number(family(families, name).metrics.find((m) => m.labels?.container === 'app' || !m.labels?.container)?.value);
    await new Promise((r) => setTimeout(r, 1_100));
    const later = parsePrometheusTextFormat(await kubectl.ok(['get', '--raw', '/api/v1/nodes/node01/proxy/metrics/resource']));
    for (const name of ['container_cpu_usage_seconds_total', 'pod_cpu_usage_seconds_total', 'node_cpu_usage_seconds_total']) {
      assert.ok(cpuOf(later, name) > cpuOf(families, name), `${name} grows`);
    }
    // The app container uses its annotated 750m: between the two samples' timestamps, 0.75 core-seconds per second.
    const appSample = (families: MetricFamily[]) => family(families, 'container_cpu_usage_seconds_total').metrics.find((m) => m.labels?.container === 'app') as { value: string; timestamp_ms: string };
    const [first, second] = [appSample(families), appSample(later)];
    const rate = (Number(second.value) - Number(first.value)) / ((Number(second.timestamp_ms) - Number(first.timestamp_ms)) / 1000);
    assert.ok(Math.abs(rate - 0.75) < 0.01, `app used ${rate} cores between the samples`);
  });

  test('/stats/summary: the Summary JSON, usageNanoCores as metrics.k8s.io reports them', async () => {
    const [podMetrics, nodeMetrics, raw] = await inOneWindow(async () => [
      JSON.parse(await kubectl.ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy'])) as { containers: { name: string; usage: { cpu: string; memory: string } }[] },
      JSON.parse(await kubectl.ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes/node01'])) as { usage: { cpu: string; memory: string } },
      await kubectl.ok(['get', '--raw', '/api/v1/nodes/node01/proxy/stats/summary']),
    ] as const);
    const summary = JSON.parse(raw) as SummaryJson;
    assert.equal(summary.node.nodeName, 'node01');
    assert.deepEqual(summary.node.systemContainers.map((c) => c.name), ['pods']);
    assert.match(summary.node.startTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(`${summary.node.cpu.usageNanoCores}n`, nodeMetrics.usage.cpu);
    assert.ok(summary.node.memory.availableBytes !== undefined && summary.node.memory.availableBytes > 0);
    const pod = summary.pods.find((p) => p.podRef.name === 'busy');
    assert.ok(pod, raw);
    assert.equal(pod.podRef.namespace, 'default');
    assert.deepEqual(pod.containers.map((c) => c.name).sort(), ['app', 'side']);
    for (const container of pod.containers) {
      const top = podMetrics.containers.find((c) => c.name === container.name)!;
      assert.equal(`${container.cpu.usageNanoCores}n`, top.usage.cpu, container.name);
      assert.equal(`${Math.round(container.memory.workingSetBytes / 1024)}Ki`, top.usage.memory, container.name);
    }
    const app = pod.containers.find((c) => c.name === 'app')!;
    assert.equal(app.cpu.usageNanoCores, 750_000_000);
    assert.equal(app.memory.availableBytes, (512 - 300) * 2 ** 20, 'limit minus working set');
    assert.equal(pod.cpu.usageCoreNanoSeconds >= pod.containers.reduce((s, c) => s + c.cpu.usageCoreNanoSeconds, 0), true);
    // only_cpu_and_memory, what metrics-server asks for, gives the same document shape.
    const only = JSON.parse(await kubectl.ok(['get', '--raw', '/api/v1/nodes/node01/proxy/stats/summary?only_cpu_and_memory=true'])) as SummaryJson;
    assert.equal(only.pods.length, summary.pods.length);
  });

  test('the kubelet authorises /metrics/resource as nodes/metrics and /stats/summary as nodes/stats', async () => {
    const statsReader = server.credentials.token({ username: 'stats-reader', groups: [] }, 600);
    const metricsReader = server.credentials.token({ username: 'metrics-reader', groups: [] }, 600);
    assert.equal((await callKubelet('/stats/summary', statsReader)).status, 200);
    assert.deepEqual(await callKubelet('/metrics/resource', statsReader),
      { status: 403, body: 'Forbidden (user=stats-reader, verb=get, resource=nodes, subresource=metrics)\n' });
    assert.equal((await callKubelet('/metrics/resource', metricsReader)).status, 200);
    assert.deepEqual(await callKubelet('/stats/summary', metricsReader),
      { status: 403, body: 'Forbidden (user=metrics-reader, verb=get, resource=nodes, subresource=stats)\n' });
  });
});

describe('kubelet statistics of the control plane\'s mirror pods', () => {
  test('mirror pods are in /stats/summary, so node usage agrees with metrics.k8s.io under `up`', async () => {
    const { startCluster } = await import('../lib/index.ts');
    const cluster = await startCluster({ nodes: 1, storage: 'memory', controlPlanePods: true });
    const kubectl = await Kubectl.create(cluster.kubeconfigPath);
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const pods = await kubectl.run(['get', 'pods', '-n', 'kube-system', '-o', 'name']);
        if (pods.stdout.includes('pod/kube-scheduler-node01')) break;
        if (Date.now() > deadline) assert.fail(`no mirror pods: ${pods.stdout}${pods.stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      let summary: SummaryJson | undefined;
      let nodeMetrics: { usage: { cpu: string } } | undefined;
      for (let attempt = 0; attempt < 4; attempt++) {
        const window = windowStart(Date.now());
        summary = JSON.parse(await kubectl.ok(['get', '--raw', '/api/v1/nodes/node01/proxy/stats/summary'])) as SummaryJson;
        nodeMetrics = JSON.parse(await kubectl.ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes/node01'])) as { usage: { cpu: string } };
        if (windowStart(Date.now()) === window) break;
      }
      const scheduler = summary!.pods.find((p) => p.podRef.name === 'kube-scheduler-node01');
      assert.ok(scheduler, JSON.stringify(summary!.pods.map((p) => p.podRef.name)));
      assert.equal(scheduler.podRef.namespace, 'kube-system');
      assert.deepEqual(scheduler.containers.map((c) => c.name), ['kube-scheduler']);
      assert.equal(`${summary!.node.cpu.usageNanoCores}n`, nodeMetrics!.usage.cpu);
    } finally {
      await kubectl.dispose();
      await cluster.stop();
    }
  });
});
