// Starting the API server: PKI and admin credential in the data dir, storage (LevelDB in the data
// dir, or etcd shared with other replicas, behind the watch cache), the registry of built-in
// resources, the default namespaces, HTTPS, and the admin kubeconfig that kubectl and client-node
// use as is.

import { openIdMetadata } from '../auth/openid-metadata.ts';
import { TOKEN_ISSUER } from '../auth/jwt-tokens.ts';
import { mkdir } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { ApiRegistry } from '../api/registry/registry.ts';
import { NamespaceCleanup } from '../api/registry/namespace-cleanup.ts';
import { ADMIN_SYSTEM_USER } from '../api/registry/system-user.ts';
import { builtinResources } from '../api/resources/index.ts';
import { reconcileKubernetesService } from '../api/registry/kubernetes-service.ts';
import { PersistedBitmapAllocator } from '../api/registry/range-allocator.ts';
import { ServiceAllocationRepair } from '../api/registry/service-allocation-repair.ts';
import { clusterIPRanges, DEFAULT_SERVICE_CLUSTER_IP_RANGE, DEFAULT_SERVICE_NODE_PORT_RANGE, nodePortRange } from '../api/registry/service-ranges.ts';
import { ensureAdminToken } from '../auth/admin-credential.ts';
import type { CredentialIssuer } from '../auth/credentials.ts';
import { ensurePki } from '../auth/pki.ts';
import { FlowControlConfigurationObjects } from './flow-control/configuration-objects.ts';
import { ensureSigningKey } from '../auth/signing-key.ts';
import { REVIEW_ENDPOINTS } from '../auth/reviews/index.ts';
import { startSecurity, type Security } from '../auth/security.ts';
import { SYSTEM_MASTERS_GROUP } from '../auth/well-known.ts';
import { openStorage, type EtcdStorageConfig } from '../storage/index.ts';
import { encryptionTransformers } from './encrypted-resources.ts';
import type { Storage } from '../storage/interface.ts';
import { answerClientErrorsWithStatus } from './client-errors.ts';
import { createApp, type RequestLogger } from './app.ts';
import type { FlowControlOptions } from './flow-control/filter.ts';
import { CORE_BINDINGS_RESOURCE, discoveryResourceFromStrategy, type DiscoveryResource } from './discovery.ts';
import { LiveDiscovery } from './live-discovery.ts';
import { CustomResourceController, type ServedCustomResource } from '../api/customresources/controller.ts';
import { buildCustomResourceOpenApi } from '../api/customresources/openapi.ts';
import { setCustomOpenApiDocuments } from '../api/openapi/documents.ts';
import { compileValidationRules } from '../api/customresources/validation-rules.ts';
import { conversionWebhookConverter } from '../auth/admission/conversion-webhook.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { startPhase } from './start-timeline.ts';
import { ensureDefaultNamespaces, ensureDefaultServiceAccounts, ensureSystemPriorityClasses } from './bootstrap-objects.ts';
import { COMPONENT_STATUSES_RESOURCE, controlPlaneProbes } from './component-statuses.ts';
import type { AuditLogRotation } from '../auth/audit-log.ts';
import { RequestJournal } from './ui/request-journal.ts';
import { processWatchBufferBudget } from './watch-stream.ts';
import { serviceAccountTokenHandler } from './service-account-token.ts';
import { SubresourceHandlers, namespaceFinalizeHandler, podBindingHandler, podLogHandler } from './subresources.ts';
import { SCALABLE_RESOURCES, scaleHandler } from './scale-subresource.ts';
import { podEvictionHandler } from './eviction.ts';
import { nodeProxyHandler } from './node-proxy.ts';
import { customResourceScaleHandler } from './custom-resource-scale.ts';
import { podStreamHandler } from './pod-streaming.ts';
import { ephemeralContainersHandler } from './ephemeral-containers.ts';
import { upgradeThroughApp } from './upgrade.ts';
import { apiServerMetrics } from './metrics/api-server-metrics.ts';
import { instrumentStorage } from './metrics/instrumented-storage.ts';
import { METRICS_DISCOVERY_RESOURCES } from './metrics-api/metrics-api.ts';

export interface ApiServerOptions extends ApiServerSecurityOptions {
  dataDir: string;
  bind: string;
  port: number;
  tlsSans: string[];
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** One line per request; omit for silence (tests). */
  log?: RequestLogger;
  /** Least time between periodic watch bookmarks (kube-apiserver: about a minute). */
  bookmarkIntervalMs?: number;
  /**
   * Revisions of change history kept by the watch cache and the LevelDB change log (defaults
   * 50,000 and 10,000, kept at least 5 minutes). A small value makes 410 Expired reachable in tests.
   */
  historyRevisions?: number;
  /**
   * Bytes all watch streams of the process may have waiting for their clients together
   * (--watch-buffer-budget; default 512 MiB); past it the stream holding the most is dropped.
   */
  watchBufferBudgetBytes?: number;
  /**
   * Keep objects in etcd instead of LevelDB in the data dir (--storage etcd). Replicas sharing one
   * etcd serve one cluster; each keeps only PKI and kubeconfig in its data dir.
   */
  etcd?: EtcdStorageConfig;
  /**
   * Without etcd: LevelDB in the data dir (default), or the same backend in memory (--storage memory;
   * the data dir then holds only PKI and kubeconfigs).
   */
  storage?: 'leveldb' | 'memory';
  /**
   * kube-apiserver's --encryption-provider-config: an EncryptionConfiguration file naming the
   * resources encrypted at rest and their providers. Unset: everything is stored as is.
   */
  encryptionProviderConfig?: string;
  /** --max-requests-inflight, --max-mutating-requests-inflight, --enable-priority-and-fairness (server/flow-control). */
  flowControl?: FlowControlOptions;
  /** --request-timeout: deadline of each request that is not long-running, body read included (default 60 s). */
  requestTimeoutMs?: number;
  /** Keep a journal of pod writes for the web view (server/ui/); on when the UI is served. */
  requestJournal?: boolean;
}

export interface ApiServerSecurityOptions {
  /** kube-apiserver's --token-auth-file: CSV `token,user,uid[,"group1,group2"]`. */
  tokenAuthFile?: string;
  /** kube-apiserver's --anonymous-auth; off by default here (upstream defaults it on). */
  anonymousAuth?: boolean;
  /**
   * Requests without credentials may read /healthz, /livez, /readyz and /version, as kube-apiserver's
   * system:public-info-viewer binding to system:unauthenticated allows (--anonymous-public-info; default true).
   */
  anonymousPublicInfo?: boolean;
  /** kube-apiserver's --audit-log-path (`-`: standard output); no audit log when undefined. */
  auditLogPath?: string;
  /** --audit-policy-file: an audit.k8s.io/v1 Policy; a file that does not load stops the start. */
  auditPolicyFile?: string;
  /** --audit-log-maxsize (MB), --audit-log-maxbackup, --audit-log-maxage (days). */
  auditLogRotation?: AuditLogRotation;
  /** --service-cluster-ip-range: one CIDR, or two of different families (default 10.96.0.0/12). */
  serviceClusterIpRange?: string;
  /** --service-node-port-range (default 30000-32767). */
  serviceNodePortRange?: string;
  /** kube-apiserver's --disable-admission-plugins: names of default plugins not to run (ServiceAccount). */
  disableAdmissionPlugins?: string[];
}

export interface RunningApiServer {
  url: string;
  port: number;
  adminKubeconfigPath: string;
  /** Admin bearer token (also in the kubeconfig). */
  adminToken: string;
  caCertPem: string;
  /** Mints tokens, client certificates and kubeconfigs the server accepts. */
  credentials: CredentialIssuer;
  /** The pod writes the server saw (with `requestJournal`). */
  journal?: RequestJournal;
  /** The store behind the registry (watch cache in front of the backend): for reset and readiness waits. */
  storage: Storage;
  /** The request handler the HTTPS server runs (the express app): for supertest and other in-process callers. */
  app: RequestListener;
  close(): Promise<void>;
}

/** The user name of the API server's client certificate towards kubelets (kubeadm's CN). */
export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  // A bad encryption config stops the start before anything in the data dir or etcd is touched.
  startPhase('API server modules loaded');
  const transformers = encryptionTransformers(options.encryptionProviderConfig);
  // So are bad service ranges (kube-apiserver refuses such flags before it starts).
  const ipRanges = clusterIPRanges(options.serviceClusterIpRange ?? DEFAULT_SERVICE_CLUSTER_IP_RANGE);
  const portRange = nodePortRange(options.serviceNodePortRange ?? DEFAULT_SERVICE_NODE_PORT_RANGE);
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  // The JWT signing key is generated on the thread pool while the PKI is created.
  const signingKey = ensureSigningKey(dataDir);
  signingKey.catch(() => undefined);
  const pki = await ensurePki(join(dataDir, 'pki'), { sans: options.tlsSans, certFile: options.tlsCertFile, keyFile: options.tlsPrivateKeyFile });
  startPhase('PKI ready');
  const adminToken = await ensureAdminToken(dataDir);
  if (options.watchBufferBudgetBytes !== undefined) processWatchBufferBudget.limit = options.watchBufferBudgetBytes;
  const history = options.historyRevisions;
  const storage = await openStorage(options.etcd
    ? { ...options.etcd, transformers, ...(history === undefined ? {} : { cache: { consistentReads: true, historyCapacity: history } }) }
    : {
      ...(options.storage === 'memory' ? { kind: 'memory' } : { kind: 'leveldb', dataDir }), transformers,
      ...(history === undefined ? {} : { backend: { historyRevisions: history, historyMs: 0 }, cache: { historyCapacity: history } }),
    });
  startPhase('storage open');
  let security: Security | undefined;
  let server: Server | undefined;
  let customResources: CustomResourceController | undefined;
  let closed = false;
  let repair: ServiceAllocationRepair | undefined;
  let flowControlObjects: FlowControlConfigurationObjects | undefined;
  try {
    const registry = new ApiRegistry(builtinResources, instrumentStorage(storage, apiServerMetrics));
    const ipRange = ipRanges[0];
    const serviceAllocators = {
      // kube-apiserver's keys: the primary range's bitmap, then the secondary's.
      clusterIPs: new Map(ipRanges.map((range, i) => [range.family, new PersistedBitmapAllocator(storage, i === 0 ? '/registry/ranges/serviceips' : '/registry/ranges/secondaryserviceips', range)])),
      nodePorts: new PersistedBitmapAllocator(storage, '/registry/ranges/servicenodeports', portRange),
    };
    repair = new ServiceAllocationRepair(storage, serviceAllocators, (error) => console.error(`kubefacade: service allocation repair: ${error instanceof Error ? error.message : String(error)}`));
    await repair.start();
    startPhase('service allocations repaired');
    await ensureDefaultNamespaces(registry);
    await ensureDefaultServiceAccounts(registry, pki.caCertPem);
    startPhase('default namespaces and service accounts');
    security = await startSecurity({
      dataDir, pki, adminToken, registry, storage, signingKey,
      tokenAuthFile: options.tokenAuthFile, anonymousAuth: options.anonymousAuth,
      anonymousPublicInfo: options.anonymousPublicInfo, auditLogPath: options.auditLogPath,
      auditPolicyFile: options.auditPolicyFile, auditLogRotation: options.auditLogRotation,
      disableAdmissionPlugins: options.disableAdmissionPlugins, serviceAllocators,
      onError: (error) => console.error(`kubefacade: clusterrole aggregation: ${error instanceof Error ? error.message : String(error)}`),
    });
    await ensureSystemPriorityClasses(registry);

    startPhase('security (bootstrap RBAC, authenticators)');
    // Every stored CRD is served again before the server listens (and so before /readyz answers).
    let discovery: LiveDiscovery | undefined;
    let served: ServedCustomResource[] = [];
    const publishCustomResources = (): void => {
      discovery?.setCustomResources(served.flatMap((s) => s.strategies.map(discoveryResourceFromStrategy)));
      const now = served;
      setCustomOpenApiDocuments(() => buildCustomResourceOpenApi(now));
    };
    customResources = new CustomResourceController(registry, storage, {
      converterFor: conversionWebhookConverter,
      compileRules: (_crd, version) => (version.schema?.openAPIV3Schema ? compileValidationRules(version.schema.openAPIV3Schema, '').ruleSet : undefined),
      onServedChange: (now) => {
        served = now;
        publishCustomResources();
      },
      onError: (error) => console.error(`kubefacade: customresourcedefinitions: ${error instanceof Error ? error.message : String(error)}`),
    });
    await customResources.start();
    flowControlObjects = new FlowControlConfigurationObjects(registry, (error) => console.error(`kubefacade: flowcontrol configuration: ${error instanceof Error ? error.message : String(error)}`));
    await flowControlObjects.start();

    startPhase('custom resources served');
    const subresources = new SubresourceHandlers();
    subresources.registerForAll('scale', customResourceScaleHandler());
    subresources.register('', 'pods', 'binding', podBindingHandler());
    // Kubelets admit the API server by a client certificate of the cluster CA, as kubeadm's
    // apiserver-kubelet-client (in system:masters, so the kubelets' SubjectAccessReviews allow it).
    // Issued at every start and kept in memory only.
    const kubeletClient = security.credentials.clientCertificate({ username: KUBELET_CLIENT_USER, groups: [SYSTEM_MASTERS_GROUP] }, 365);
    subresources.register('', 'pods', 'log', podLogHandler(() => registry.lookup('', 'v1', 'nodes'), kubeletClient));
    subresources.register('', 'nodes', 'proxy', nodeProxyHandler(() => registry.lookup('', 'v1', 'nodes'), kubeletClient));
    subresources.register('', 'namespaces', 'finalize', namespaceFinalizeHandler());
    for (const [group, resource] of SCALABLE_RESOURCES) subresources.register(group, resource, 'scale', scaleHandler());
    subresources.register('', 'pods', 'eviction', podEvictionHandler(registry));
    subresources.register('', 'serviceaccounts', 'token', serviceAccountTokenHandler(() => signingKey, registry));
    const nodeStore = () => registry.lookup('', 'v1', 'nodes');
    const authorizer = () => security!.authorizer;
    subresources.register('', 'pods', 'ephemeralcontainers', ephemeralContainersHandler());
    for (const kind of ['exec', 'attach', 'portforward'] as const) subresources.register('', 'pods', kind, podStreamHandler(kind, nodeStore, authorizer, kubeletClient));

    // Client certificates are requested, never required, and checked against the cluster CA; the
    // x509 authenticator decides what an unverified one means (401), so TLS itself accepts it.
    server = createServer({ cert: pki.servingCertPem, key: pki.servingKeyPem, ca: pki.caCertPem, requestCert: true, rejectUnauthorized: false });
    answerClientErrorsWithStatus(server);
    // kube-apiserver keeps idle connections 90 s (IdleTimeout, matching Go's DefaultTransport);
    // node's 5 s default made clients idle between bursts reconnect (a TLS handshake each time).
    server.keepAliveTimeout = 90_000;
    // Tracked from the TCP accept, not from 'secureConnection': close() must also end connections
    // still in their TLS handshake, or server.close() waits for them (seen: a kubelet reconnecting
    // while the server restarted kept close() waiting for good).
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    startPhase('kubelet client certificate, handlers');
    await listen(server, options.port, options.bind);
    startPhase('listening');
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const host = clientHost(options.bind);
    const url = `https://${host}:${port}`;

    discovery = new LiveDiscovery(
      [...builtinResources.map(discoveryResourceFromStrategy), CORE_BINDINGS_RESOURCE, COMPONENT_STATUSES_RESOURCE, ...REVIEW_ENDPOINTS.map(reviewDiscoveryResource), ...METRICS_DISCOVERY_RESOURCES],
      { serverAddress: `${host}:${port}` },
    );
    publishCustomResources();
    const journal = options.requestJournal ? new RequestJournal() : undefined;
    const app = createApp({
      registry,
      journal,
      security,
      discovery,
      subresources,
      log: options.log,
      flowControl: options.flowControl,
      flowControlObjects,
      requestTimeoutMs: options.requestTimeoutMs,
      storageHealth: () => storage.health?.() ?? { healthy: true },
      componentStatuses: controlPlaneProbes(registry, storage, options.etcd ? 'etcd-0' : 'leveldb'),
      openIdMetadata: openIdMetadata(TOKEN_ISSUER, `${host}:${port}`, await signingKey),
      handler: {
        maxRequestBodyBytes: MAX_REQUEST_BODY_BYTES,
        bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
        minRequestTimeoutSeconds: 1800,
        watchMaxBufferedBytes: 16 * 1024 * 1024,
      },
    });
    server.on('request', app);
    server.on('upgrade', upgradeThroughApp(app));

    const adminKubeconfigPath = join(dataDir, 'admin.kubeconfig');
    await writeKubeconfig(adminKubeconfigPath, {
      clusterName: 'kubefacade',
      server: url,
      caCertPem: pki.caCertPem,
      users: [{ name: 'kubernetes-admin', token: adminToken }],
      contextUser: 'kubernetes-admin',
    });

    await reconcileKubernetesService(registry, { user: ADMIN_SYSTEM_USER, namespace: 'default', now: new Date() }, ipRange.firstAddress, host.replace(/^\[|\]$/g, ''), port);

    startPhase('app, admin kubeconfig, kubernetes service');
    const cleanup = new NamespaceCleanup(registry);
    cleanup.start();
    // apiserver_storage_objects: counted when scraped (the watch cache counts from memory).
    const stopCounting = apiServerMetrics.addObjectCounter(async () => {
      const counts = new Map<string, number>();
      for (const store of registry.all()) {
        const { group, resource } = store.groupResource;
        counts.set(group ? `${resource}.${group}` : resource, await storage.count(store.prefix('')));
      }
      return counts;
    });

    const running = security;
    const crdController = customResources;
    const apfObjects = flowControlObjects;
    const allocationRepair = repair;
    const httpsServer = server;
    return {
      url, port, adminKubeconfigPath, adminToken, caCertPem: pki.caCertPem, credentials: running.credentials, journal, storage, app,
      async close() {
        if (closed) return;
        closed = true;
        cleanup.stop();
        crdController.stop();
        apfObjects.stop();
        // The published custom documents are process-wide: a closed server's CRDs leave with it.
        setCustomOpenApiDocuments(() => ({ v3: new Map(), v2Definitions: {} }));
        allocationRepair.stop();
        stopCounting();
        await new Promise<void>((done) => {
          httpsServer.close(() => done());
          for (const socket of sockets) socket.destroy();
        });
        await running.stop();
        await storage.close();
      },
    };
  } catch (err) {
    const listening = server;
    if (listening?.listening) await new Promise<void>((done) => listening.close(() => done()));
    customResources?.stop();
    flowControlObjects?.stop();
    repair?.stop();
    await security?.stop();
    await storage.close();
    throw err;
  }
}

/** A review resource as discovery lists it: create only, nothing else. */
function reviewDiscoveryResource(endpoint: (typeof REVIEW_ENDPOINTS)[number]): DiscoveryResource {
  return {
    group: endpoint.group, version: endpoint.version, resource: endpoint.resource, singular: endpoint.singular,
    kind: endpoint.kind, namespaced: endpoint.namespaced, verbs: ['create'], shortNames: [], categories: [], subresources: [],
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
}

/** The host clients should dial: a wildcard bind is reached over loopback. */
function clientHost(bind: string): string {
  if (bind === '0.0.0.0' || bind === '') return '127.0.0.1';
  if (bind === '::') return '[::1]';
  return bind.includes(':') ? `[${bind}]` : bind;
}

export type { Storage };
