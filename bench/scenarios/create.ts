// Scenario `create`: N pod creates at concurrency C through the whole stack (TLS, authentication,
// validation, defaulting, storage, watch fan-out to one watcher), then the same bodies, load
// generator and concurrency against a bare https + LevelDB server (the baseline), a no-op server
// (the client's own ceiling) and, where installed, raw etcd puts.

import type { CreateOptions } from '../defaults.ts';
import path from 'node:path';
import { startBaselineServer } from '../baseline.ts';
import { findEtcd, measureEtcdPuts } from '../etcd-baseline.ts';
import { BenchClient } from '../http-client.ts';
import type { ClientTarget } from '../kubeconfig.ts';
import { runLoad, type LoadPlan, type LoadResult } from '../load.ts';
import { BENCH_NAMESPACE, podBody, podTemplate } from '../pod-template.ts';
import { BENCH_CRD_GROUP, BENCH_CRD_PLURAL, benchCrd, webAppTemplate } from '../crd-template.ts';
import { sleep } from '../processes.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import { ensureNamespace, mib, runScenario, startServer, type CommonOptions, type ScenarioContext } from '../scenario.ts';
import { ratePerSecond, summarizeLatencies } from '../stats.ts';
import { openWatch, watchAgent } from '../watch-client.ts';


const NAME_PREFIX = 'bench-pod-';

function createPlan(target: ClientTarget, options: CreateOptions, timeoutMs: number): LoadPlan {
  return {
    target, method: 'POST', path: `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`,
    body: podTemplate({ namePrefix: NAME_PREFIX }), count: options.pods, concurrency: options.concurrency, rate: 0, timeoutMs,
  };
}

/** Throughput and latency of one load run, in the shape every create figure is reported in. */
function loadFigures(result: LoadResult): JsonObject {
  const measured = result.latenciesMs.filter((value) => !Number.isNaN(value));
  const elapsed = result.finishedAtMs - result.startedAtMs;
  return {
    succeeded: result.succeeded, failed: result.sent - result.succeeded, seconds: Math.round(elapsed) / 1000,
    createsPerSecond: ratePerSecond(result.succeeded, elapsed),
    latency: { ...summarizeLatencies(measured) },
    statuses: { ...result.statuses },
    clientEventLoopUtilization: result.clientEventLoopUtilization,
    ...(result.errors.length ? { firstErrors: result.errors } : {}),
  };
}

/**
 * `--kind crd`: the CRD registered, polled until Established and until a first create succeeds
 * (the time reported), then as many custom resource creates as pods, at the same concurrency.
 */
async function createCustomResources(context: ScenarioContext, target: ClientTarget, options: CreateOptions, timeoutMs: number): Promise<JsonObject> {
  const client = new BenchClient(target, 1);
  const collection = `/apis/${BENCH_CRD_GROUP}/v1/namespaces/${BENCH_NAMESPACE}/${BENCH_CRD_PLURAL}`;
  const started = performance.now();
  let firstCreateMs = 0;
  try {
    await client.json('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', benchCrd());
    const body = webAppTemplate('bench-first-').replaceAll('__I__', '0');
    for (;;) {
      try {
        await client.json('POST', collection, JSON.parse(body));
        firstCreateMs = performance.now() - started;
        break;
      } catch (err) {
        if (performance.now() - started > timeoutMs) throw err;
        await sleep(2);
      }
    }
  } finally {
    client.close();
  }
  const result = await load(context, 'create (custom resources, 10 CEL rules)', {
    target, method: 'POST', path: collection, body: webAppTemplate('bench-webapp-'), count: options.pods, concurrency: options.concurrency, rate: 0, timeoutMs,
  });
  return { ...loadFigures(result), crdToFirstCreateMs: Math.round(firstCreateMs * 10) / 10, bodyBytes: Buffer.byteLength(webAppTemplate('bench-webapp-')) };
}

async function load(context: ScenarioContext, label: string, plan: LoadPlan): Promise<LoadResult> {
  context.progress.phase(label, plan.count);
  const result = await runLoad(plan, (done) => context.progress.update(done));
  context.progress.end();
  return result;
}

export function runCreate(common: CommonOptions, options: CreateOptions): Promise<ScenarioReport> {
  return runScenario('create', common, async (context) => {
    const timeoutMs = common.timeoutSeconds * 1000;
    const server = await startServer(context);
    let ours: JsonObject;
    let customResources: JsonObject | undefined;
    let watcherEvents = 0;
    let serverPeak = 0;
    try {
      const client = new BenchClient(server.target, 1);
      await ensureNamespace(client);
      const list = await client.json<{ metadata: { resourceVersion: string } }>('GET', `/api/v1/namespaces/${BENCH_NAMESPACE}/pods?limit=1`);
      client.close();
      // The one watcher the issue asks for: every create fans out to it.
      const agent = watchAgent(server.target);
      const watch = await openWatch({
        target: server.target, agent,
        path: `/api/v1/namespaces/${BENCH_NAMESPACE}/pods?watch=1&resourceVersion=${list.metadata.resourceVersion}`,
        onLine: () => undefined,
      });
      const result = await load(context, 'create (kubefacade)', createPlan(server.target, options, timeoutMs));
      const deadline = Date.now() + 30_000;
      while (watch.events < result.succeeded && Date.now() < deadline) await sleep(50);
      watcherEvents = watch.events;
      watch.close();
      agent.destroy();
      ours = loadFigures(result);
      if (options.kind === 'crd') customResources = await createCustomResources(context, server.target, options, timeoutMs);
      serverPeak = server.memory()?.peakRssBytes ?? 0;
    } finally {
      await server.stop();
    }

    const pki = path.join(context.runDir, 'server', 'pki');
    const certFiles = { certFile: path.join(pki, 'apiserver.crt'), keyFile: path.join(pki, 'apiserver.key') };
    let baseline: JsonObject = {};
    if (options.baseline) {
      const bare = await startBaselineServer({ dataDir: path.join(context.runDir, 'baseline'), ...certFiles, mode: 'leveldb', sync: true });
      try {
        const result = await load(context, 'create (bare https+leveldb)', createPlan({ ...server.target, server: bare.url }, options, timeoutMs));
        baseline = { description: 'bare node:https, JSON.parse + one synced classic-level put per request', ...loadFigures(result) };
        baseline.peakRssMiB = mib(bare.memory()?.peakRssBytes ?? 0);
      } finally {
        await bare.stop();
      }
    }
    // The client's own ceiling: the same load against a server that does no work at all.
    const noop = await startBaselineServer({ dataDir: path.join(context.runDir, 'noop'), ...certFiles, mode: 'null', sync: false });
    let clientCeiling: JsonObject;
    try {
      const result = await load(context, 'load generator ceiling', createPlan({ ...server.target, server: noop.url }, options, timeoutMs));
      const figures = loadFigures(result);
      clientCeiling = { requestsPerSecond: figures.createsPerSecond, latency: figures.latency, clientEventLoopUtilization: result.clientEventLoopUtilization };
    } finally {
      await noop.stop();
    }

    const etcdBinary = options.etcd ? findEtcd() : undefined;
    if (etcdBinary) {
      context.progress.phase('raw etcd puts', options.pods);
      const etcd = await measureEtcdPuts({
        binary: etcdBinary, dir: context.runDir, count: options.pods, concurrency: options.concurrency, timeoutMs,
        bodies: (index) => podBody({ namePrefix: NAME_PREFIX }, index), onProgress: (done) => context.progress.update(done),
      });
      context.progress.end();
      baseline.etcd = { ...etcd, latency: { ...etcd.latency } };
    }

    const createsPerSecond = ours.createsPerSecond as number;
    const p99 = (ours.latency as JsonObject).p99Ms as number;
    const targets: { [name: string]: boolean } = { 'p99 <= 50 ms at c=64': p99 <= 50 };
    if (typeof baseline.createsPerSecond === 'number') targets['throughput >= 0.5x baseline'] = createsPerSecond >= 0.5 * baseline.createsPerSecond;
    if (baseline.etcd) targets['throughput above raw etcd'] = createsPerSecond > ((baseline.etcd as JsonObject).putsPerSecond as number);
    if (customResources) {
      targets['custom resource creates >= 0.8x pod creates'] = (customResources.createsPerSecond as number) >= 0.8 * createsPerSecond;
      targets['CRD to Established to first create <= 100 ms'] = (customResources.crdToFirstCreateMs as number) <= 100;
    }
    return {
      params: { pods: options.pods, concurrency: options.concurrency, kind: options.kind, bodyBytes: Buffer.byteLength(podBody({ namePrefix: NAME_PREFIX }, 0)) },
      results: { ...ours, watcherEvents, serverPeakRssMiB: mib(serverPeak), clientCeiling, ...(customResources ? { customResources } : {}) },
      baseline,
      ratioMetric: 'createsPerSecond',
      targets,
    };
  });
}
