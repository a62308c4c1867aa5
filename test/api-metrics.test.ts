// /metrics on the API server: a scrape through the real kubectl (`get --raw /metrics`), parsed by a Prometheus
// text-format parser, carries upstream's metric names, types and label sets; the endpoint is authorised as upstream
// (get on the non-resource URL /metrics, granted to the group system:monitoring).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startApiServer } from '../server/start.ts';
import { REQUEST_DURATION_BUCKETS } from '../server/metrics/api-server-metrics.ts';

const REQUEST_LABELS = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'];

describe('API server /metrics', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startApiServer>>;

  // Asynchronous: the server runs in this process and must keep answering while kubectl waits.
  const kubectl = (args: string[], kubeconfig = server.adminKubeconfigPath) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', (error) => reject(new Error(`kubectl is needed for these tests: ${error.message}`)));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-metrics-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [] });
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a scrape parses and carries upstream names, types and label sets', async () => {
    assert.equal((await kubectl(['create', 'namespace', 'metrics-test'])).status, 0);
    assert.equal((await kubectl(['get', 'namespaces'])).status, 0);
    const run = await kubectl(['get', '--raw', '/metrics']);
    assert.equal(run.status, 0, run.stderr);
    const families = new Map(parsePrometheusTextFormat(run.stdout).map((family) => [family.name, family]));
    const family = (name: string, type: string) => {
      const found = families.get(name);
      assert.ok(found, `${name} is exposed`);
      assert.equal(found.type, type, `${name} is a ${type}`);
      return found;
    };
    const requests = family('apiserver_request_total', 'COUNTER');
    for (const sample of requests.metrics) assert.deepEqual(Object.keys(sample.labels ?? {}).sort(), [...REQUEST_LABELS, 'code'].sort());
    const created = requests.metrics.find((m) => m.labels?.verb === 'POST' && m.labels.resource === 'namespaces' && m.labels.code === '201');
    assert.ok(created, 'the namespace creation is counted');
    assert.equal(created.labels?.scope, 'resource');
    assert.equal(created.labels?.component, 'apiserver');
    assert.ok(requests.metrics.some((m) => m.labels?.verb === 'LIST' && m.labels.resource === 'namespaces' && m.labels.scope === 'cluster'));

    const duration = family('apiserver_request_duration_seconds', 'HISTOGRAM');
    assert.deepEqual(Object.keys(duration.metrics[0].buckets ?? {}).filter((le) => le !== '+Inf').map(Number).sort((a, b) => a - b), REQUEST_DURATION_BUCKETS);
    // The parser keeps no labels on histogram samples: their label sets are read from the _count series.
    const listCount = /^apiserver_request_duration_seconds_count\{([^}]*verb="LIST"[^}]*resource="namespaces"[^}]*)\} \d+$/m.exec(run.stdout);
    assert.ok(listCount, 'the namespace list latency is recorded');
    assert.deepEqual(listCount[1].split(',').map((pair) => pair.slice(0, pair.indexOf('='))).sort(), [...REQUEST_LABELS].sort());

    const inflight = family('apiserver_current_inflight_requests', 'GAUGE');
    assert.deepEqual(inflight.metrics.map((m) => m.labels?.request_kind).sort(), ['mutating', 'readOnly']);
    family('apiserver_longrunning_requests', 'GAUGE');
    family('apiserver_watch_events_total', 'COUNTER');

    const objects = family('apiserver_storage_objects', 'GAUGE');
    const namespaces = objects.metrics.find((m) => m.labels?.resource === 'namespaces');
    assert.equal(namespaces?.value, '5', 'four default namespaces and metrics-test');
    assert.ok(objects.metrics.some((m) => m.labels?.resource === 'clusterroles.rbac.authorization.k8s.io'));

    const seats = family('apiserver_flowcontrol_nominal_limit_seats', 'GAUGE');
    assert.deepEqual(seats.metrics.map((m) => m.labels?.priority_level).sort(),
      ['catch-all', 'exempt', 'global-default', 'leader-election', 'node-high', 'system', 'workload-high', 'workload-low'].sort());
    const dispatched = family('apiserver_flowcontrol_dispatched_requests_total', 'COUNTER');
    assert.ok(dispatched.metrics.every((m) => m.labels?.priority_level && m.labels.flow_schema));
    family('apiserver_flowcontrol_current_executing_requests', 'GAUGE');
    family('apiserver_flowcontrol_current_inqueue_requests', 'GAUGE');

    family('etcd_request_duration_seconds', 'HISTOGRAM');
    assert.match(run.stdout, /^etcd_request_duration_seconds_count\{operation="create",type="namespaces"\} [1-9]/m);
    family('process_cpu_seconds_total', 'COUNTER');
    family('process_resident_memory_bytes', 'GAUGE');
    family('nodejs_heap_size_used_bytes', 'GAUGE');
  });

  test('only callers granted get on /metrics (system:monitoring) may scrape', async () => {
    const outsider = join(dir, 'outsider.kubeconfig');
    await server.credentials.writeTokenKubeconfig(outsider, server.url, { username: 'outsider', groups: [] }, 3600);
    const denied = await kubectl(['get', '--raw', '/metrics'], outsider);
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /forbidden: User "outsider" cannot get path "\/metrics"/);
    const monitor = join(dir, 'monitor.kubeconfig');
    await server.credentials.writeTokenKubeconfig(monitor, server.url, { username: 'prometheus', groups: ['system:monitoring'] }, 3600);
    const allowed = await kubectl(['get', '--raw', '/metrics'], monitor);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stdout, /^# HELP /m);
  });
});
