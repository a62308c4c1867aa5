// The API server's /metrics text is rendered without prom-client's per-bucket objects (server/metrics/
// text-exposition.ts): the text must be exactly what prom-client's registry.metrics() writes, for counters, gauges
// with collect functions, histograms with and without labels, label values that need escaping, and the default
// Node.js metrics; and the API server's own registry renders identically after real traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';
import { renderRegistry } from '../server/metrics/text-exposition.ts';
import { ApiServerMetrics } from '../server/metrics/api-server-metrics.ts';

test('the text is byte for byte prom-client\'s', async () => {
  const registry = new Registry();
  const registers = [registry];
  const counter = new Counter({ name: 'requests_total', help: 'Requests\nwith a "newline" and a \\ backslash', labelNames: ['verb', 'code'], registers });
  counter.inc({ verb: 'GET', code: '200' }, 3);
  counter.inc({ verb: 'we"ird\\value\nhere', code: '500' });
  new Counter({ name: 'unlabelled_total', help: 'no labels', registers }).inc(2.5);
  new Counter({ name: 'never_total', help: 'labelled, never incremented', labelNames: ['x'], registers });
  new Gauge({ name: 'collected', help: 'set at scrape', labelNames: ['kind'], registers, collect() { this.set({ kind: 'a' }, Number.NaN); this.set({ kind: 'b' }, -Infinity); } });
  const histogram = new Histogram({ name: 'latency_seconds', help: 'latency', labelNames: ['verb', 'resource'], buckets: [0.005, 0.1, 1, 10], registers });
  histogram.observe({ verb: 'LIST', resource: 'pods' }, 0.05);
  histogram.observe({ verb: 'LIST', resource: 'pods' }, 3);
  histogram.observe({ verb: 'GET', resource: 'no"des' }, 0.001);
  new Histogram({ name: 'plain_seconds', help: 'no labels', buckets: [1, 2], registers }).observe(1.5);
  new Summary({ name: 'sizes', help: 'a summary', percentiles: [0.5, 0.9], labelNames: ['k'], registers }).observe({ k: 'v' }, 10);
  collectDefaultMetrics({ register: registry });
  // Default metrics move between two reads (event loop lag, memory): compare after both have run the same collects.
  const ours = await renderRegistry(registry);
  const theirs = await registry.metrics();
  const stable = (text: string) => text.split('\n').filter((line) => !/^(process|nodejs)_/.test(line)).join('\n');
  assert.equal(stable(ours), stable(theirs));
  assert.deepEqual(ours.split('\n').map((line) => line.replace(/ [^ ]+$/, '')), theirs.split('\n').map((line) => line.replace(/ [^ ]+$/, '')));
  assert.ok(ours.endsWith('\n') && !ours.endsWith('\n\n'));
});

test('the API server\'s registry renders as prom-client renders it', async () => {
  const metrics = new ApiServerMetrics();
  for (const verb of ['GET', 'LIST', 'POST']) {
    const labels = { verb, dry_run: '', group: 'apps', version: 'v1', resource: 'deployments', subresource: '', scope: 'namespace', component: 'apiserver' };
    metrics.requests.inc({ ...labels, code: '200' });
    metrics.requestDuration.observe(labels, 0.02);
  }
  metrics.storageDuration.observe({ operation: 'get', type: 'pods' }, 0.001);
  const names = (text: string) => text.split('\n').map((line) => line.replace(/ [^ ]+$/, ''));
  assert.deepEqual(names(await renderRegistry(metrics.registry)), names(await metrics.registry.metrics()));
  const apiLines = (text: string) => text.split('\n').filter((line) => /^(apiserver|etcd)_/.test(line));
  assert.deepEqual(apiLines(await renderRegistry(metrics.registry)), apiLines(await metrics.registry.metrics()));
});
