// The scheduler's and the kubelets' own /metrics, as upstream exposes them: the kubelet's through the API server's
// node proxy (`kubectl get --raw /api/v1/nodes/node01/proxy/metrics`, the kubelet authorising the API server for
// nodes/metrics), the scheduler's on its own port. Each scrape is parsed by a Prometheus text-format parser and its
// names, types, label sets and buckets compared with upstream's (pkg/kubelet/metrics, pkg/scheduler/metrics).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { Kubectl } from './helpers/kubectl.ts';
import { eventually, startCli, type CliProcess } from './helpers/cluster-processes.ts';

function family(families: MetricFamily[], name: string): MetricFamily {
  const found = families.find((f) => f.name === name);
  assert.ok(found, `${name} in ${families.map((f) => f.name).join(', ')}`);
  return found;
}

/** Bucket bounds in order ("+Inf" last): the parser's object keys, which JavaScript orders integers-first. */
function bounds(buckets: Record<string, string> | undefined): number[] {
  return Object.keys(buckets ?? {}).map((key) => (key === '+Inf' ? Infinity : Number(key))).sort((a, b) => a - b);
}

/** The parser keeps no labels on histogram samples: read them from the `_count` lines of the text. */
function histogramLabelSets(text: string, name: string): string[] {
  const sets = [...text.matchAll(new RegExp(`^${name}_count\\{([^}]*)\\}`, 'gm'))]
    .map((match) => match[1].split(',').map((pair) => pair.split('=')[0]).sort().join(','));
  return [...new Set(sets)];
}

function labelSets(metric: MetricFamily): string[] {
  return [...new Set(metric.metrics.map((sample) => Object.keys(sample.labels ?? {}).sort().join(',')))];
}

describe('scheduler and kubelet /metrics', () => {
  let dataDir: string;
  let up: CliProcess;
  let kubectl: Kubectl;
  let schedulerMetricsUrl: string;
  let adminToken: string;
  /** The scheduler's secure port: self-signed HTTPS, a bearer token authorised for get /metrics (the admin's). */
  const scrapeScheduler = () => new Promise<string>((resolve, reject) => {
    https.get(schedulerMetricsUrl, { rejectUnauthorized: false, headers: { Authorization: `Bearer ${adminToken}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}: ${body}`))));
    }).on('error', reject);
  });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-component-metrics-'));
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--kubelet-port', '0', '--nodes', '2', '--scheduler-metrics-port', '0', '--image-pull-delay', '100ms']);
    await up.waitForOutput(/kubefacade is up: API server (https:\/\/127\.0\.0\.1:\d+), nodes (.+)\n/);
    const [, kubeconfigPath] = await up.waitForOutput(/kubectl --kubeconfig (\S+) get nodes/);
    [, schedulerMetricsUrl] = await up.waitForOutput(/scheduler metrics: (https:\/\/127\.0\.0\.1:\d+\/metrics)/);
    const admin = new KubeConfig();
    admin.loadFromFile(kubeconfigPath);
    adminToken = admin.getCurrentUser()?.token ?? '';
    kubectl = await Kubectl.create(kubeconfigPath);
    await kubectl.ok(['run', 'web', '--image=nginx:1.27', '--overrides={"spec":{"nodeName":"node01"}}']);
    await kubectl.ok(['run', 'nowhere', '--image=nginx:1.27', '--overrides={"spec":{"nodeSelector":{"disk":"none"}}}']);
    await kubectl.ok(['run', 'placed', '--image=nginx:1.27']);
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/web', 'pod/placed', '--timeout=60s']);
  });

  after(async () => {
    await kubectl?.dispose();
    await up?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the kubelet\'s metrics through the node proxy carry pkg/kubelet/metrics\' names, labels and buckets', async () => {
    const text = await kubectl.ok(['get', '--raw', '/api/v1/nodes/node01/proxy/metrics']);
    const families = parsePrometheusTextFormat(text);
    assert.deepEqual(family(families, 'kubelet_node_name').metrics, [{ labels: { node: 'node01' }, value: '1' }]);
    const running = family(families, 'kubelet_running_pods');
    assert.equal(running.type, 'GAUGE');
    assert.ok(Number(running.metrics[0].value) >= 1, text);
    const containers = family(families, 'kubelet_running_containers');
    assert.deepEqual(containers.metrics.map((m) => m.labels?.container_state).sort(), ['created', 'exited', 'running', 'unknown']);
    assert.ok(Number(containers.metrics.find((m) => m.labels?.container_state === 'running')?.value) >= 1);
    const start = family(families, 'kubelet_pod_start_duration_seconds');
    assert.equal(start.type, 'HISTOGRAM');
    assert.deepEqual(bounds(start.metrics[0].buckets),
      [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600, Infinity]);
    assert.ok(Number(start.metrics[0].count) >= 1);
    assert.equal(start.help, '[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run');
    assert.deepEqual(labelSets(family(families, 'kubelet_started_containers_total')), ['container_type']);
    assert.ok(Number(family(families, 'kubelet_started_pods_total').metrics[0].value) >= 1);
    // The node proxy reaches the kubelet's other paths too; an unknown node is the API's NotFound.
    assert.equal(await kubectl.ok(['get', '--raw', '/api/v1/nodes/node02/proxy/healthz']), 'ok');
    const missing = await kubectl.run(['get', '--raw', '/api/v1/nodes/node09/proxy/metrics']);
    assert.match(missing.stderr, /nodes "node09" not found/);
  });

  test('the scheduler\'s metrics carry pkg/scheduler/metrics\' stable names and labels', async () => {
    const [families, text] = await eventually('an unschedulable attempt to be counted', async () => {
      const scraped = await scrapeScheduler();
      const parsed = parsePrometheusTextFormat(scraped);
      const attempts = parsed.find((f) => f.name === 'scheduler_schedule_attempts_total');
      return attempts?.metrics.some((m) => m.labels?.result === 'unschedulable') ? [parsed, scraped] as const : undefined;
    });
    const attempts = family(families, 'scheduler_schedule_attempts_total');
    assert.equal(attempts.type, 'COUNTER');
    assert.deepEqual(labelSets(attempts), ['profile,result']);
    const scheduled = attempts.metrics.find((m) => m.labels?.result === 'scheduled' && m.labels.profile === 'default-scheduler');
    assert.ok(Number(scheduled?.value) >= 1, 'the placed pod was scheduled');
    const duration = family(families, 'scheduler_scheduling_attempt_duration_seconds');
    assert.equal(duration.type, 'HISTOGRAM');
    assert.deepEqual(histogramLabelSets(text, 'scheduler_scheduling_attempt_duration_seconds'), ['profile,result']);
    assert.deepEqual(bounds(duration.metrics[0].buckets), [...Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i), Infinity]);
    const pending = family(families, 'scheduler_pending_pods');
    assert.equal(pending.type, 'GAUGE');
    assert.deepEqual(pending.metrics.map((m) => m.labels?.queue).sort(), ['active', 'backoff', 'gated', 'unschedulable']);
    const waiting = pending.metrics.filter((m) => m.labels?.queue === 'unschedulable' || m.labels?.queue === 'backoff').reduce((sum, m) => sum + Number(m.value), 0);
    assert.ok(waiting >= 1, 'the pod that fits nowhere waits');
  });
});
