// What the `exec` and `port-forward` scenarios share: `kubefacade server` and one `kubefacade kubelet` process with one
// node, a Running pod on it (nginx, declaring port 80), and WebSocket connections to its subresources made with the
// admin's credentials, as client-go makes them (the API server proxies them to the kubelet).
import WebSocket from 'ws';
import { BenchClient } from './http-client.ts';
import { sleep, spawnComponent, type ComponentProcess, type ServerProcess } from './processes.ts';
import { BENCH_NAMESPACE } from './pod-template.ts';
import { componentNodeArgs, ensureNamespace, startServer, stopAll, type ScenarioContext } from './scenario.ts';

export const TARGET_POD = 'stream-target';
export const TARGET_PORT = 80;

export interface StreamingTarget {
  server: ServerProcess;
  kubelet: ComponentProcess;
  client: BenchClient;
  /** A WebSocket to a path of the API server offering `protocols`, open (or rejected with the server's answer). */
  connect(path: string, protocols: string[]): Promise<WebSocket>;
  stop(): Promise<void>;
}

export async function startStreamingTarget(context: ScenarioContext): Promise<StreamingTarget> {
  const server = await startServer(context);
  const started: ComponentProcess[] = [server];
  const client = new BenchClient(server.target, 8);
  try {
    await ensureNamespace(client);
    const kubelet = spawnComponent('kubelet', [
      'kubelet', '--kubeconfig', server.kubeconfigPath, '--nodes', '1', '--kubelet-port', '0', '--image-pull-delay', '0s',
    ], { logDir: context.runDir, nodeArgs: componentNodeArgs(context) });
    started.push(kubelet);
    await client.json('POST', `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: TARGET_POD, namespace: BENCH_NAMESPACE },
      spec: { nodeName: 'node01', containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: TARGET_PORT }] }] },
    });
    context.progress.phase('target pod Running', 1);
    const deadline = Date.now() + context.common.timeoutSeconds * 1000;
    for (;;) {
      const pod = await client.json<{ status?: { phase?: string } }>('GET', `/api/v1/namespaces/${BENCH_NAMESPACE}/pods/${TARGET_POD}`);
      if (pod.status?.phase === 'Running') break;
      if (kubelet.exited) throw new Error(`the kubelet exited; see ${kubelet.logFile}`);
      if (Date.now() > deadline) throw new Error('the target pod did not reach Running in time');
      await sleep(100);
    }
    context.progress.update(1);
    context.progress.end();
    const { target } = server;
    const connect = (path: string, protocols: string[]): Promise<WebSocket> => new Promise((resolve, reject) => {
      const ws = new WebSocket(`${target.server.replace(/^https/, 'wss')}${path}`, protocols, {
        ca: target.caPem, cert: target.certPem, key: target.keyPem, perMessageDeflate: false,
        headers: target.token ? { Authorization: `Bearer ${target.token}` } : {},
      });
      ws.binaryType = 'nodebuffer';
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_request, response) => reject(new Error(`${path}: HTTP ${response.statusCode}`)));
      ws.once('error', reject);
    });
    return {
      server, kubelet, client, connect,
      stop: async () => {
        client.close();
        await stopAll([kubelet, server]);
      },
    };
  } catch (error) {
    client.close();
    await stopAll(started.reverse());
    throw error;
  }
}
