// kubefacade as a library: `import { startCluster, startApiServer } from 'kubefacade'`.
//
//   const cluster = await startCluster({ nodes: 3, storage: 'memory' });
//   const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
//   ...
//   await cluster.reset();   // between tests: every object but the bootstrap ones removed
//   await cluster.stop();    // no listener, timer or file left behind
//
// Every `kubefacade server` / `kubefacade up` flag is an option (lib/options.ts); the CLI itself runs
// through launchApiServer/launchCluster below. Several servers and clusters can run in one process:
// ports default to 0 (chosen by the OS) and each has its own store, keys and data dir.

import type { RequestListener } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { launchApiServer, launchCluster, type LaunchedServer } from './launch.ts';
import type { ApiServerOptions, ClusterOptions } from './options.ts';
import { KubefacadeOptionError } from './errors.ts';

export interface KubefacadeApiServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** A client-node KubeConfig for the cluster admin (system:masters), verifying the server with the cluster CA. */
  readonly kubeconfig: KubeConfig;
  /** The admin kubeconfig file, for kubectl (`kubectl --kubeconfig <path>`) and other clients. */
  readonly kubeconfigPath: string;
  /** The same kubeconfig as YAML. */
  readonly kubeconfigYaml: string;
  /** The admin bearer token. */
  readonly adminToken: string;
  /** The cluster CA certificate (PEM). */
  readonly caCertPem: string;
  /** The data dir (PKI, kubeconfigs; LevelDB's `db/` with `{ leveldb }` storage). */
  readonly dataDir: string;
  /**
   * A KubeConfig for `user` in `groups` (plus system:authenticated), with a bearer token signed by this
   * server, valid 24 hours: what RBAC sees for that user. No RBAC rights are granted.
   */
  userKubeconfig(user: string, groups?: string[]): KubeConfig;
  /**
   * Deletes every object except those present when the server became ready (default namespaces,
   * bootstrap RBAC, nodes and leases). resourceVersions keep increasing; watchers get DELETED events.
   * Bootstrap objects a test changed keep their changes.
   */
  reset(): Promise<void>;
  /** The request handler the server runs (the express app), e.g. for supertest: `request(server.app)`. */
  readonly app: RequestListener;
  /** Stops everything started; removes a temporary data dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface KubefacadeCluster extends KubefacadeApiServer {
  /** The simulated nodes' names (node01, node02, ...), all Ready once startCluster resolved. */
  readonly nodes: readonly string[];
}

function kubeconfigFromYaml(yaml: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(yaml);
  return config;
}

async function withClientObjects(launched: LaunchedServer): Promise<KubefacadeCluster> {
  const { readFile } = await import('node:fs/promises');
  const kubeconfigYaml = await readFile(launched.kubeconfigPath, 'utf8');
  const kubeconfig = kubeconfigFromYaml(kubeconfigYaml);
  return {
    url: launched.url,
    port: launched.port,
    kubeconfig,
    kubeconfigPath: launched.kubeconfigPath,
    kubeconfigYaml,
    adminToken: launched.adminToken,
    caCertPem: launched.caCertPem,
    dataDir: launched.dataDir,
    nodes: launched.nodes,
    app: launched.app,
    userKubeconfig: (user, groups = []) => {
      if (typeof user !== 'string' || user === '') throw new KubefacadeOptionError('user', 'must be a non-empty user name');
      if (!Array.isArray(groups) || groups.some((group) => typeof group !== 'string' || group === '')) {
        throw new KubefacadeOptionError('groups', 'must be an array of group names');
      }
      return kubeconfigFromYaml(launched.userKubeconfigYaml(user, groups));
    },
    reset: () => launched.reset(),
    stop: () => launched.stop(),
  };
}

/** Starts the API server alone (no scheduler, no nodes): `kubefacade server`. Default storage: memory. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<KubefacadeApiServer> {
  return withClientObjects(await launchApiServer(options));
}

/**
 * Starts the API server, the scheduler, `nodes` simulated nodes and the node lifecycle controller:
 * `kubefacade up`. Resolves once every node is Ready (unless `waitForNodes: false`).
 */
export async function startCluster(options: ClusterOptions = {}): Promise<KubefacadeCluster> {
  return withClientObjects(await launchCluster(options));
}

export { KubefacadeOptionError, KubefacadeStartError, type StartFailureReason } from './errors.ts';
export type { ApiServerOptions, ClusterOptions, EtcdStorageOption, RequestLogLine, StorageOption } from './options.ts';

/**
 * The API server's request handler, for supertest and other in-process HTTP callers:
 * `const app = await createApp(); await request(app).get('/api/v1/namespaces').set('Authorization', `Bearer ${app.adminToken}`)`.
 * Requests reach the same authentication, authorization, admission and storage as over HTTPS (the
 * server also listens on a loopback port, `app.server.url`). Call `app.close()` when done.
 */
export interface KubefacadeApp extends RequestListener {
  readonly adminToken: string;
  /** The running API server behind the handler. */
  readonly server: KubefacadeApiServer;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function createApp(options: ApiServerOptions = {}): Promise<KubefacadeApp> {
  const server = await startApiServer(options);
  const handler = server.app;
  const app: RequestListener = (req, res) => handler(req, res);
  return Object.assign(app, { adminToken: server.adminToken, server, reset: () => server.reset(), close: () => server.stop() });
}
