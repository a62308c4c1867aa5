// Scenario `workloads`: the controller manager at work. On a cluster of separate processes (server,
// kubelets, scheduler, `kubefacade controllers`): first the same number of bare pods as the
// Deployments will run, created as fast as accepted (the same run's density reference), then
// D Deployments x R replicas — the time from the last create to all Available, a rolling image
// update of every Deployment to all updated and Available, and deletion of every Deployment with
// background cascade to zero pods. Reports the controller manager's CPU seconds and peak RSS.

import type { WorkloadsOptions } from '../defaults.ts';
import { startBenchCluster } from '../cluster.ts';
import { BenchClient } from '../http-client.ts';
import { runLoad } from '../load.ts';
import { PodTracker } from '../pod-tracker.ts';
import { BENCH_NAMESPACE, podTemplate } from '../pod-template.ts';
import { cpuSeconds, sleep, spawnComponent } from '../processes.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import { componentNodeArgs, memoryReport, mib, runScenario, stopAll, type CommonOptions } from '../scenario.ts';

const NS_PATH = `/apis/apps/v1/namespaces/${BENCH_NAMESPACE}/deployments`;
const PODS_PATH = `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`;

interface DeploymentShape {
  metadata: { name: string; generation?: number };
  spec: { replicas?: number };
  status?: { observedGeneration?: number; availableReplicas?: number; updatedReplicas?: number; replicas?: number };
}

function deploymentBody(index: number, replicas: number): JsonObject {
  const pod = JSON.parse(podTemplate({ namePrefix: 'unused-' }).replaceAll('__I__', String(index))) as JsonObject & { spec: JsonObject };
  const labels = { app: `bench-deploy-${index}`, tier: 'frontend' };
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `bench-deploy-${index}`, namespace: BENCH_NAMESPACE },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: pod.spec } },
  };
}

async function listDeployments(client: BenchClient): Promise<DeploymentShape[]> {
  return (await client.json<{ items: DeploymentShape[] }>('GET', NS_PATH)).items;
}

async function countPods(client: BenchClient): Promise<number> {
  let total = 0;
  let token = '';
  do {
    const page = await client.json<{ items: unknown[]; metadata: { continue?: string } }>('GET',
      `${PODS_PATH}?limit=2000${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
    total += page.items.length;
    token = page.metadata.continue ?? '';
  } while (token);
  return total;
}

export function runWorkloads(common: CommonOptions, options: WorkloadsOptions): Promise<ScenarioReport> {
  return runScenario('workloads', common, async (context) => {
    const pods = options.deployments * options.replicas;
    const timeoutMs = common.timeoutSeconds * 1000;
    const cluster = await startBenchCluster(context, { nodes: options.nodes, kubeletProcesses: 1 });
    // The workload controllers, garbage collector and node lifecycle (what this scenario has always measured); the
    // service-account, endpoint, endpointslice and quota controllers have their own scenario (endpointslices).
    const controllers = spawnComponent('controllers', ['controllers', '--kubeconfig', cluster.server.kubeconfigPath,
      '--controllers', '*,-serviceaccount,-endpoint,-endpointslice,-resourcequota'], {
      logDir: context.runDir, nodeArgs: componentNodeArgs(context),
    });
    const client = new BenchClient(cluster.server.target, options.concurrency);
    let tracker: PodTracker | undefined;
    const waitFor = async (what: string, total: number, probe: () => Promise<number>): Promise<boolean> => {
      context.progress.phase(what, total);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const done = await probe();
        context.progress.update(done);
        if (done >= total) break;
        if (controllers.exited) throw new Error(`the controller manager exited; see ${controllers.logFile}`);
        if (Date.now() > deadline) return false;
        await sleep(250);
      }
      context.progress.end();
      return true;
    };
    try {
      // Reference: the same number of bare pods, created and Running, in this run.
      tracker = await PodTracker.start(cluster.server.target, BENCH_NAMESPACE);
      context.progress.phase('bare pods: creating', pods);
      const bareStart = performance.now();
      await runLoad({
        target: cluster.server.target, method: 'POST', path: PODS_PATH, body: podTemplate({ namePrefix: 'bare-' }), count: pods,
        concurrency: 64, rate: 0, timeoutMs,
      }, (done) => context.progress.update(done));
      context.progress.phase('bare pods: Running', pods);
      const bareRunning = await tracker.waitForRunning(pods, timeoutMs, (running) => context.progress.update(running));
      const barePodsPerSecond = pods / ((performance.now() - bareStart) / 1000);
      context.progress.end();
      await tracker.stop();
      tracker = undefined;
      await client.json('DELETE', `${PODS_PATH}?gracePeriodSeconds=0`);
      await waitFor('bare pods: deleted', pods, async () => pods - await countPods(client));

      const cpuAtStart = cpuSeconds(controllers.pid) ?? 0;
      // Deployments: created as fast as accepted, then all Available.
      context.progress.phase('deployments: creating', options.deployments);
      const createStart = performance.now();
      let created = 0;
      await Promise.all(Array.from({ length: options.concurrency }, async (_, worker) => {
        for (let i = worker; i < options.deployments; i += options.concurrency) {
          await client.json('POST', NS_PATH, deploymentBody(i, options.replicas));
          context.progress.update(++created);
        }
      }));
      const lastCreate = performance.now();
      const available = async (generationChanged: boolean): Promise<number> => (await listDeployments(client)).filter((d) => {
        const s = d.status ?? {};
        return (s.availableReplicas ?? 0) === options.replicas && (s.updatedReplicas ?? 0) === options.replicas
          && (s.replicas ?? 0) === options.replicas && (!generationChanged || (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0));
      }).length;
      const allAvailable = await waitFor('deployments: Available', options.deployments, () => available(false));
      const availableAt = performance.now();
      const createToAvailableSeconds = (availableAt - lastCreate) / 1000;
      const deploymentPodsPerSecond = pods / ((availableAt - createStart) / 1000);

      // A rolling image update of every Deployment.
      context.progress.phase('rolling update: patching', options.deployments);
      const rollStart = performance.now();
      let patched = 0;
      await Promise.all(Array.from({ length: options.concurrency }, async (_, worker) => {
        for (let i = worker; i < options.deployments; i += options.concurrency) {
          await client.json('PATCH', `${NS_PATH}/bench-deploy-${i}`, { spec: { template: { spec: { containers: [{ name: 'web', image: 'registry.k8s.io/nginx-slim:0.28' }] } } } },
            { 'content-type': 'application/strategic-merge-patch+json' });
          context.progress.update(++patched);
        }
      }));
      const rolled = await waitFor('rolling update: updated and Available', options.deployments, () => available(true));
      const rollingUpdateSeconds = (performance.now() - rollStart) / 1000;
      const controllerMemory = controllers.memory();
      const controllerCpuSeconds = (cpuSeconds(controllers.pid) ?? cpuAtStart) - cpuAtStart;

      // Deletion with background cascade: every Deployment, then wait for zero pods.
      context.progress.phase('delete: Deployments', options.deployments);
      const deleteStart = performance.now();
      let deleted = 0;
      await Promise.all(Array.from({ length: options.concurrency }, async (_, worker) => {
        for (let i = worker; i < options.deployments; i += options.concurrency) {
          await client.json('DELETE', `${NS_PATH}/bench-deploy-${i}`, { propagationPolicy: 'Background' });
          context.progress.update(++deleted);
        }
      }));
      const allGone = await waitFor('delete: pods gone', pods, async () => pods - await countPods(client));
      const cascadeDeleteSeconds = (performance.now() - deleteStart) / 1000;

      const peakRssBytes = controllerMemory?.peakRssBytes ?? 0;
      const rssBudgetBytes = 100 * 1048576 + 512 * pods;
      const memory = memoryReport([...cluster.processes, controllers]);
      return {
        params: { ...options, pods },
        results: {
          deploymentPodsPerSecond: Math.round(deploymentPodsPerSecond * 10) / 10,
          barePodsPerSecond: Math.round(barePodsPerSecond * 10) / 10,
          createToAvailableSeconds: Math.round(createToAvailableSeconds * 100) / 100,
          rollingUpdateSeconds: Math.round(rollingUpdateSeconds * 100) / 100,
          cascadeDeleteSeconds: Math.round(cascadeDeleteSeconds * 100) / 100,
          allAvailable, rolled, allGone, bareRunning,
          controllerManager: { cpuSeconds: Math.round(controllerCpuSeconds * 100) / 100, peakRssMiB: mib(peakRssBytes), rssBudgetMiB: mib(rssBudgetBytes) },
          memory,
        },
        baseline: {
          deploymentPodsPerSecond: Math.round(barePodsPerSecond * 0.5 * 10) / 10,
          source: 'half the bare-pod rate measured in the same run (issue target: Deployments reach Available at >= 50% of it)',
        },
        ratioMetric: 'deploymentPodsPerSecond',
        targets: {
          '>= 50% of the bare-pod rate': deploymentPodsPerSecond >= barePodsPerSecond * 0.5,
          'controller manager RSS <= 100 MiB + 0.5 KiB/pod': peakRssBytes > 0 && peakRssBytes <= rssBudgetBytes,
        },
      };
    } finally {
      await tracker?.stop();
      client.close();
      await stopAll([controllers]);
      await cluster.stop();
    }
  });
}
