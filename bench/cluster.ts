// A whole cluster as separate processes for the density and scale scenarios: `kubefacade server`,
// `kubefacade kubelet` (one or more processes, each running a share of the simulated nodes, no
// image-pull delay) and `kubefacade scheduler`, each through the real CLI with the admin kubeconfig.

import { MAX_SIMULATED_NODES } from '../kubelet/node-addressing.ts';
import { BenchClient } from './http-client.ts';
import { sleep, spawnComponent, type ComponentProcess, type ServerProcess } from './processes.ts';
import { BENCH_NAMESPACE, podBody } from './pod-template.ts';
import { componentNodeArgs, ensureNamespace, startServer, stopAll, type ScenarioContext } from './scenario.ts';

export interface BenchCluster {
  server: ServerProcess;
  kubelets: ComponentProcess[];
  scheduler: ComponentProcess;
  /** Every process, server first (for memory reports). */
  processes: ComponentProcess[];
  stop(): Promise<void>;
}

interface NodeList {
  items: { status?: { conditions?: { type: string; status: string }[] } }[];
  metadata: { continue?: string };
}

/** Counts Ready nodes with paged lists (a large cluster's node list is many megabytes). */
export async function countReadyNodes(client: BenchClient): Promise<number> {
  let ready = 0;
  let token = '';
  do {
    const page: NodeList = await client.json('GET', `/api/v1/nodes?limit=1000${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
    for (const node of page.items) {
      if (node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ready++;
    }
    token = page.metadata.continue ?? '';
  } while (token);
  return ready;
}

const WARMUP_NAMESPACE = 'bench-warmup';
/** Clients that cache every pod of a large cluster outgrow node's default heap (about 4 GiB here). */
const LARGE_HEAP = '--max-old-space-size=8192';

/**
 * One pod through the whole path before measuring: the scheduler and kubelet processes are up,
 * their informers synced and their code compiled, so the first measured pods do not pay start-up.
 * It lives in its own namespace, outside what the scenarios count.
 */
async function warmUp(context: ScenarioContext, server: ServerProcess, scheduler: ComponentProcess): Promise<void> {
  const client = new BenchClient(server.target, 1);
  try {
    await ensureNamespace(client, WARMUP_NAMESPACE);
    await client.json('POST', `/api/v1/namespaces/${WARMUP_NAMESPACE}/pods`, JSON.parse(podBody({ namePrefix: 'warmup-' }, 0).replaceAll(`"${BENCH_NAMESPACE}"`, `"${WARMUP_NAMESPACE}"`)));
    context.progress.phase('warm-up pod Running', 1);
    const deadline = Date.now() + context.common.timeoutSeconds * 1000;
    for (;;) {
      const pod = await client.json<{ status?: { phase?: string } }>('GET', `/api/v1/namespaces/${WARMUP_NAMESPACE}/pods/warmup-0`);
      if (pod.status?.phase === 'Running') break;
      if (scheduler.exited) throw new Error(`the scheduler exited; see ${scheduler.logFile}`);
      if (Date.now() > deadline) throw new Error('the warm-up pod did not reach Running in time');
      await sleep(100);
    }
    context.progress.update(1);
    context.progress.end();
  } finally {
    client.close();
  }
}

export async function startBenchCluster(context: ScenarioContext, options: { nodes: number; kubeletProcesses: number }): Promise<BenchCluster> {
  const server = await startServer(context);
  const started: ComponentProcess[] = [server];
  try {
    const client = new BenchClient(server.target, 1);
    await ensureNamespace(client);
    const kubelets: ComponentProcess[] = [];
    // kubelet/node-addressing.ts hands out pod CIDRs for at most MAX_SIMULATED_NODES nodes; beyond that the
    // nodes are split over processes that each count from 1 under their own name prefix (their pod
    // CIDRs and loopback addresses then repeat across processes, which nothing here depends on).
    const processes = Math.max(options.kubeletProcesses, Math.ceil(options.nodes / MAX_SIMULATED_NODES));
    const perProcess = Math.ceil(options.nodes / processes);
    const ownPrefixes = options.nodes > MAX_SIMULATED_NODES;
    for (let first = 1, i = 0; first <= options.nodes; first += perProcess, i++) {
      const count = Math.min(perProcess, options.nodes - first + 1);
      const naming = ownPrefixes ? ['--name-prefix', `node${i + 1}-`, '--first-index', '1'] : ['--first-index', String(first)];
      const kubelet = spawnComponent(processes === 1 ? 'kubelet' : `kubelet${i + 1}`, [
        'kubelet', '--kubeconfig', server.kubeconfigPath, '--nodes', String(count), ...naming,
        '--kubelet-port', '0', '--image-pull-delay', '0s',
      ], { logDir: context.runDir, nodeArgs: [...componentNodeArgs(context), LARGE_HEAP] });
      kubelets.push(kubelet);
      started.push(kubelet);
    }
    context.progress.phase(`${options.nodes} nodes Ready`, options.nodes);
    const deadline = Date.now() + context.common.timeoutSeconds * 1000;
    for (;;) {
      const ready = await countReadyNodes(client);
      context.progress.update(ready);
      if (ready >= options.nodes) break;
      const dead = kubelets.find((kubelet) => kubelet.exited);
      if (dead) throw new Error(`${dead.name} exited; see ${dead.logFile}`);
      if (Date.now() > deadline) throw new Error(`only ${ready}/${options.nodes} nodes Ready in time`);
      await sleep(1000);
    }
    context.progress.end();
    client.close();
    const scheduler = spawnComponent('scheduler', ['scheduler', '--kubeconfig', server.kubeconfigPath], {
      logDir: context.runDir, nodeArgs: [...componentNodeArgs(context), LARGE_HEAP],
    });
    started.push(scheduler);
    await warmUp(context, server, scheduler);
    return {
      server, kubelets, scheduler, processes: [server, ...kubelets, scheduler],
      // Clients first, so the server's profile covers the whole run and it exits last.
      stop: () => stopAll([scheduler, ...kubelets, server]),
    };
  } catch (error) {
    await stopAll(started.reverse());
    throw error;
  }
}
