// One simulated node: registers (or adopts) its Node, keeps its Lease renewed and its status posted, serves container
// logs over HTTPS on its loopback InternalIP, and runs the pods bound to it through pod workers.
import { NodeMetrics } from './node-metrics.ts';
import { ResourceStats, type PodUsageInput } from './resource-stats.ts';
import { parseQuantity } from './quantity.ts';
import { MIRROR_POD_ANNOTATION, StaticPods, type StaticPodSpec } from './static-pods.ts';
import type { V1Lease, V1Node, V1NodeCondition, V1Pod } from '@kubernetes/client-node';
import { NodeLogStore } from './container-logs.ts';
import type { EventRecorder } from './event-recorder.ts';
import { nodeEvents, type EventText } from './event-text.ts';
import type { ServiceEnvironment } from './service-environment.ts';
import { ImagePuller } from './image-puller.ts';
import { NodeImageStore, type ImagePullDelay } from './images.ts';
import { MERGE_PATCH, microTime, statusCodeOf, type KubeletClients } from './kube-client.ts';
import type { KubeletEndpoints, LogLookup, LogServer } from './log-server.ts';
import type { KubeletAuth } from './request-auth.ts';
import { PodIpAllocator } from './node-addressing.ts';
import { composeNodeForRegistration, composeNodeStatus, conditionsNeedUpdate, podCidrsOf, type SimulatedNodeSpec } from './node-object.ts';
import type { ConfigSource } from './container-config.ts';
import type { PodContentReader } from './shell/config-content.ts';
import { PodWorker, type Logger, type PodRef, type PodSink, type PodWorkerTiming } from './pod-worker.ts';
import { NodeStreamingRuntime } from './streaming/node-streaming.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const NODE_LEASE_DURATION_SECONDS = 40;

export interface NodeAgentTiming extends PodWorkerTiming {
  leaseRenewIntervalMs: number;
  /** How often status is computed and posted if something changed (nodeStatusUpdateFrequency). */
  statusUpdateIntervalMs: number;
  /** Longest gap between two posts even if nothing changed. */
  statusReportIntervalMs: number;
}

export interface NodeAgentOptions {
  spec: SimulatedNodeSpec;
  clients: KubeletClients;
  /** The process's event queue; this node's events are written with its own clients. */
  events: EventRecorder;
  /** The process's HTTPS endpoint, on which this node adds a listener at its InternalIP. */
  endpoints: KubeletEndpoints;
  /** How the node's HTTPS endpoint authenticates and authorises callers (TokenReview/SubjectAccessReview as the node). */
  auth: KubeletAuth;
  imagePullDelay?: ImagePullDelay;
  /** The process's view of the services (fed by its shared watches), for containers' service variables. */
  services?: ServiceEnvironment;
  timing: NodeAgentTiming;
  logger: Logger;
  /** The node's static pods (the control plane of `up`), mirrored into the API (static-pods.ts). */
  staticPods?: StaticPodSpec[];
  /** --show-hidden-metrics-for-version given (and valid): hidden deprecated metrics are shown. */
  showHiddenMetrics?: boolean;
  /** klog's --v: at 2, the sync loop's lines (kubelet.go's "SyncLoop ADD", "SyncLoop REMOVE", PLEG events). */
  verbosity?: number;
}

export class NodeAgent implements PodSink {
  readonly spec: SimulatedNodeSpec;
  private readonly images = new NodeImageStore();
  private readonly puller: ImagePuller;
  private readonly logs = new NodeLogStore();
  private ips: PodIpAllocator;
  private readonly workers = new Map<string, PodWorker>();
  /**
   * Pods whose deletion this node confirmed, until the watch reports them gone: a late MODIFIED for such a pod must
   * not start a new worker for it.
   */
  private readonly finished = new Set<string>();
  private logServer?: LogServer;
  /** exec, attach and port-forward into this node's pods (kubelet/streaming/). */
  private readonly streaming: NodeStreamingRuntime;
  private nodeUid?: string;
  /**
   * The Node's conditions as the process's node watch last delivered them (all a status check reads of the Node);
   * saves a GET per status check. Undefined until the watch has seen the Node, and again once it reports it deleted.
   */
  private observedConditions?: V1NodeCondition[];
  private lease?: V1Lease;
  private lastStatusPostMs = 0;
  private lastImagesPosted = '';
  private registering?: Promise<void>;
  private renewing?: Promise<void>;
  private statusCheck?: Promise<void>;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private readonly staticPods?: StaticPods;
  readonly metrics: NodeMetrics;
  /** CPU and memory of the node and its pods: /stats/summary and /metrics/resource. */
  readonly resourceStats: ResourceStats;

  constructor(private readonly options: NodeAgentOptions) {
    this.spec = { ...options.spec };
    this.metrics = new NodeMetrics(this.spec.name);
    this.resourceStats = new ResourceStats(this.spec.name, Date.now(), parseQuantity(this.spec.memory));
    if (options.staticPods?.length) {
      this.staticPods = new StaticPods(this.spec.name, this.spec.internalIp, options.clients, options.staticPods, options.logger);
    }
    this.puller = new ImagePuller(this.images, options.imagePullDelay);
    this.ips = new PodIpAllocator(this.spec.podCidr, this.spec.podCidrV6);
    this.streaming = new NodeStreamingRuntime({
      findPod: (namespace, name) => this.findWorker(namespace, name)?.runtimeState,
      ephemeralExited: (namespace, name, container, exitCode) => this.findWorker(namespace, name)?.ephemeralProcessExited(container, exitCode),
      readPod: (namespace, name) => this.options.clients.core.readNamespacedPod({ namespace, name }),
      logs: this.logs,
      hostIp: this.spec.internalIp,
      allocatable: { cpu: this.spec.cpu, memory: this.spec.memory },
      content: this.contentReader,
    });
  }

  /** A V(2) line (kubelet --v=2), prefixed with the node it comes from. */
  private v2(line: string): void {
    if ((this.options.verbosity ?? 0) >= 2) this.options.logger.info(`node ${this.name}: ${line}`);
  }

  private *podUsageInputs(): Iterable<PodUsageInput> {
    if (this.staticPods) yield* this.staticPods.usageInputs();
    for (const worker of this.workers.values()) {
      const input = worker.usageInput();
      if (input) yield input;
    }
  }

  private findWorker(namespace: string, name: string): PodWorker | undefined {
    for (const worker of this.workers.values()) if (worker.ref.namespace === namespace && worker.ref.name === name) return worker;
    return undefined;
  }

  get name(): string {
    return this.spec.name;
  }

  /** Binds the log endpoint (so the advertised port is real), then registers the node. */
  async start(): Promise<void> {
    const resolve = (namespace: string, pod: string, container: string, previous: boolean): LogLookup =>
      this.resolveLogs(namespace, pod, container, previous);
    const { endpoints } = this.options;
    const endpoint = {
      nodeName: this.spec.name, auth: this.options.auth, resolve,
      metrics: () => this.metrics.render([...this.workers.values()].map((worker) => worker.runtimeState)),
      stats: () => this.resourceStats.sample(this.podUsageInputs()),
      showHiddenMetrics: this.options.showHiddenMetrics,
    };
    try {
      this.logServer = await endpoints.listen(this.spec.internalIp, this.spec.kubeletPort, endpoint, this.streaming);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || this.spec.kubeletPort === 0) throw error;
      this.logServer = await endpoints.listen(this.spec.internalIp, 0, endpoint, this.streaming);
    }
    this.spec.kubeletPort = this.logServer.port;
    await this.ensureRegistered();
    this.nodeEvent(nodeEvents.starting());
    for (const reason of ['NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID']) {
      this.nodeEvent(nodeEvents.statusIsNow(this.name, reason));
    }
    this.nodeEvent(nodeEvents.allocatableEnforced());
    this.nodeEvent(nodeEvents.statusIsNow(this.name, 'NodeReady'));
    if (this.staticPods && this.nodeUid) await this.staticPods.sync(this.nodeUid);
    await this.renewLease().catch((error: unknown) => this.options.logger.warn(`node ${this.name}: lease: ${String(error)}`));
    const { timing } = this.options;
    this.timers.push(setInterval(() => this.renewLeaseUnlessInFlight(), timing.leaseRenewIntervalMs));
    this.timers.push(setInterval(() => this.checkStatusUnlessInFlight(), timing.statusUpdateIntervalMs));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.staticPods?.stop();
    for (const timer of this.timers) clearInterval(timer);
    for (const worker of this.workers.values()) worker.remove();
    this.workers.clear();
    await this.logServer?.close();
  }

  private nodeEvent(text: EventText): void {
    // The kubelet's node reference uses the node name as UID (pkg/kubelet/kubelet.go nodeRef).
    this.options.events.record(this.name, { kind: 'Node', name: this.name, uid: this.name }, text, this.options.clients.writes);
  }

  /** Creates the Node, or adopts one that exists (keeping the pod CIDR it already has). */
  ensureRegistered(): Promise<void> {
    this.registering ??= this.register().finally(() => {
      this.registering = undefined;
    });
    return this.registering;
  }

  private async register(): Promise<void> {
    const { core } = this.options.clients;
    let node: V1Node;
    try {
      node = await core.readNode({ name: this.name });
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw error;
      try {
        node = await core.createNode({ body: composeNodeForRegistration(this.spec, Date.now()) });
        this.options.logger.info(`node ${this.name} registered (${this.spec.internalIp}:${this.spec.kubeletPort})`);
      } catch (createError) {
        if (statusCodeOf(createError) !== 409) throw createError;
        node = await core.readNode({ name: this.name });
      }
    }
    this.nodeUid = node.metadata?.uid;
    const existingCidr = node.spec?.podCIDR;
    // A registered node keeps the CIDRs it has (podCIDRs are immutable once set); its IPv6 one only if it is dual-stack.
    const existingV6 = this.spec.podCidrV6 ? node.spec?.podCIDRs?.find((cidr) => cidr.includes(':')) : undefined;
    if (existingCidr && (existingCidr !== this.spec.podCidr || (existingV6 && existingV6 !== this.spec.podCidrV6))) {
      this.spec.podCidr = existingCidr;
      this.spec.podCidrV6 = existingV6;
      this.ips = new PodIpAllocator(existingCidr, existingV6);
    } else if (existingCidr && this.spec.podCidrV6 && !existingV6) {
      this.spec.podCidrV6 = undefined;
      this.ips = new PodIpAllocator(existingCidr);
    } else if (!existingCidr) {
      await core.patchNode({ name: this.name, body: { spec: { podCIDR: this.spec.podCidr, podCIDRs: podCidrsOf(this.spec) } } }, MERGE_PATCH);
    }
    await this.postStatus(node.status?.conditions);
  }

  private async postStatus(currentConditions: V1NodeCondition[] | undefined): Promise<void> {
    const status = composeNodeStatus({ spec: this.spec, images: this.images.list(), nowMs: Date.now(), currentConditions });
    await this.options.clients.core.patchNodeStatus({ name: this.name, body: { status } }, MERGE_PATCH);
    this.lastStatusPostMs = Date.now();
    this.lastImagesPosted = JSON.stringify(status.images);
  }

  /** Posts status when something changed since the last post, or when the report interval has passed. */
  async postStatusIfDue(force: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      const conditions = this.observedConditions ?? (await this.options.clients.core.readNode({ name: this.name })).status?.conditions;
      const imagesChanged = JSON.stringify(this.images.list()) !== this.lastImagesPosted;
      const due = Date.now() - this.lastStatusPostMs >= this.options.timing.statusReportIntervalMs;
      if (force || due || imagesChanged || conditionsNeedUpdate(conditions)) await this.postStatus(conditions);
    } catch (error) {
      if (statusCodeOf(error) === 404) {
        this.options.logger.warn(`node ${this.name} is gone from the API; registering again`);
        await this.ensureRegistered().catch((registerError: unknown) => this.options.logger.warn(`node ${this.name}: ${String(registerError)}`));
        return;
      }
      if (!this.stopped) this.options.logger.warn(`node ${this.name}: status update failed: ${String(error)}`);
    }
  }

  /** The node watch delivered this node's Node (added or changed). */
  nodeObserved(node: V1Node): void {
    this.observedConditions = node.status?.conditions ?? [];
  }

  /** Called when the node watch reports the Node deleted. */
  nodeDeleted(): void {
    this.observedConditions = undefined;
    if (this.stopped) return;
    this.lease = undefined;
    void this.ensureRegistered()
      .then(() => this.renewLease())
      .catch((error: unknown) => this.options.logger.warn(`node ${this.name}: re-registration failed: ${String(error)}`));
  }

  private leaseBody(): V1Lease {
    const body: Record<string, unknown> = {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: {
        name: this.name, namespace: NODE_LEASE_NAMESPACE,
        ownerReferences: this.nodeUid ? [{ apiVersion: 'v1', kind: 'Node', name: this.name, uid: this.nodeUid }] : undefined,
      },
      spec: { holderIdentity: this.name, leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime: microTime() },
    };
    return body as V1Lease;
  }

  /**
   * One renewal at a time, as the kubelet's lease controller loop does: when the API server is slow, a timer tick
   * that overlapped the previous renewal would replace the same resourceVersion and fail with a conflict.
   */
  private renewLeaseUnlessInFlight(): void {
    if (this.renewing) return;
    this.renewing = this.renewLease()
      .catch((error: unknown) => {
        if (!this.stopped) this.options.logger.warn(`node ${this.name}: lease renewal failed: ${String(error)}`);
      })
      .finally(() => {
        this.renewing = undefined;
      });
  }

  /**
   * One status check at a time, as the kubelet's syncNodeStatus loop runs: ticks that arrive while the API server is
   * still answering the previous one are skipped, so a slow server sees one pending write per node rather than a
   * growing pile (measured: 5,000 nodes queued gigabytes of node-status patches in the kubelet when every tick posted).
   */
  private checkStatusUnlessInFlight(): void {
    if (this.statusCheck) return;
    this.statusCheck = this.postStatusIfDue(false).finally(() => {
      this.statusCheck = undefined;
    });
  }

  /** Renews with an update of the last lease seen (the kubelet's way); creates it when missing. */
  async renewLease(): Promise<void> {
    if (this.stopped) return;
    const { coordination } = this.options.clients;
    if (this.lease) {
      const body = { ...this.lease, spec: { ...this.lease.spec, renewTime: microTime() as unknown as Date } } as V1Lease;
      try {
        this.lease = await coordination.replaceNamespacedLease({ name: this.name, namespace: NODE_LEASE_NAMESPACE, body });
        return;
      } catch (error) {
        const code = statusCodeOf(error);
        if (code !== 409 && code !== 404) throw error;
        this.lease = undefined;
        if (code === 409) {
          const current = await coordination.readNamespacedLease({ name: this.name, namespace: NODE_LEASE_NAMESPACE });
          const retry = { ...current, spec: { ...current.spec, holderIdentity: this.name, renewTime: microTime() as unknown as Date } } as V1Lease;
          this.lease = await coordination.replaceNamespacedLease({ name: this.name, namespace: NODE_LEASE_NAMESPACE, body: retry });
          return;
        }
      }
    }
    try {
      this.lease = await coordination.createNamespacedLease({ namespace: NODE_LEASE_NAMESPACE, body: this.leaseBody() });
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
      const current = await coordination.readNamespacedLease({ name: this.name, namespace: NODE_LEASE_NAMESPACE });
      this.lease = current;
      await this.renewLease();
    }
  }

  /** The node's own reads of the ConfigMaps and Secrets its pods use (allowed by the Node authorizer's graph). */
  private readonly configSource: ConfigSource = {
    keys: async (kind, namespace, name) => {
      const { core } = this.options.clients;
      try {
        const object = kind === 'secret'
          ? await core.readNamespacedSecret({ name, namespace })
          : await core.readNamespacedConfigMap({ name, namespace });
        const keys = new Set(Object.keys(object.data ?? {}));
        if (kind === 'configmap') for (const key of Object.keys((object as { binaryData?: object }).binaryData ?? {})) keys.add(key);
        return keys;
      } catch (error) {
        if (statusCodeOf(error) === 404) return undefined;
        throw error;
      }
    },
  };

  /** The handler of a RuntimeClass (the kubelet's RuntimeClass manager reads them through an informer). */
  private readonly runtimeHandler = async (name: string): Promise<string | undefined> => {
    try {
      return (await this.options.clients.node.readRuntimeClass({ name })).handler;
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  };

  /** What a container's env and volumes show, read with the node's credentials when an exec or attach makes its instance. */
  private readonly contentReader: PodContentReader = {
    data: async (kind, namespace, name) => {
      const { core } = this.options.clients;
      try {
        const out: Record<string, Buffer> = {};
        if (kind === 'secret') {
          const secret = await core.readNamespacedSecret({ name, namespace });
          for (const [key, value] of Object.entries(secret.data ?? {})) out[key] = Buffer.from(value, 'base64');
        } else {
          const configMap = await core.readNamespacedConfigMap({ name, namespace });
          for (const [key, value] of Object.entries(configMap.data ?? {})) out[key] = Buffer.from(value);
          for (const [key, value] of Object.entries(configMap.binaryData ?? {})) out[key] = Buffer.from(value, 'base64');
        }
        return out;
      } catch (error) {
        if (statusCodeOf(error) === 404) return undefined;
        throw error;
      }
    },
    serviceAccountToken: async (pod, audience, expirationSeconds) => {
      const name = pod.spec?.serviceAccountName;
      const namespace = pod.metadata?.namespace;
      if (!name || !namespace || !pod.metadata?.name || !pod.metadata.uid) return undefined;
      // The kubelet's token manager: a TokenRequest bound to the pod, for the projection's audience and lifetime.
      const request = await this.options.clients.core.createNamespacedServiceAccountToken({
        name, namespace,
        body: {
          apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
          spec: {
            audiences: audience ? [audience] : [],
            expirationSeconds: expirationSeconds ?? 3607,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
          },
        },
      });
      return request.status?.token;
    },
  };

  /** A pod bound to this node was added or changed. */
  podChanged(pod: V1Pod): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid;
    if (!uid || this.finished.has(uid)) return;
    if (this.staticPods?.owns(pod)) return this.staticPods.changed(pod);
    if (MIRROR_POD_ANNOTATION in (pod.metadata?.annotations ?? {})) {
      // A mirror pod without a static pod here (left from a run with other static pods): the kubelet deletes
      // orphaned mirror pods (HandlePodCleanups) rather than running them.
      if (!this.workers.has(uid)) {
        this.confirmDeletion({ namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid } as PodRef)
          .catch((error: unknown) => this.options.logger.warn(`node ${this.name}: deleting orphaned mirror pod ${pod.metadata?.name}: ${String(error)}`));
      }
      return;
    }
    const worker = this.workers.get(uid);
    if (worker) return worker.update(pod);
    this.metrics.podSeen(uid);
    this.v2(`"SyncLoop ADD" source="api" pods=["${pod.metadata?.namespace}/${pod.metadata?.name}"]`);
    const created = new PodWorker(pod, {
      name: this.name, hostIp: this.spec.internalIp, ips: this.ips, puller: this.puller, logs: this.logs, config: this.configSource, services: this.options.services,
      runtimeHandler: this.runtimeHandler,
    }, this, this.options.timing, this.options.logger);
    this.workers.set(uid, created);
    created.start();
  }

  /** The pod with this uid is gone from the API. */
  podDeleted(uid: string): void {
    if (this.staticPods?.isMirror(uid)) return this.staticPods.deleted(uid, this.nodeUid);
    this.metrics.podForgotten(uid);
    const gone = this.workers.get(uid);
    if (gone) this.v2(`"SyncLoop REMOVE" source="api" pods=["${gone.ref.namespace}/${gone.ref.name}"]`);
    this.finished.delete(uid);
    this.streaming.forgetPod(uid);
    this.workers.get(uid)?.remove();
    this.workers.delete(uid);
  }

  /** Whether this node runs the pod, or has confirmed its deletion and waits for the watch to report it gone. */
  hasPod(uid: string): boolean {
    return this.workers.has(uid) || this.finished.has(uid);
  }

  podCount(): number {
    return this.workers.size;
  }

  private resolveLogs(namespace: string, podName: string, container: string, previous: boolean): LogLookup {
    const componentLog = this.staticPods?.log(namespace, podName, container);
    if (componentLog) {
      return previous ? { status: 400, message: `previous terminated container "${container}" in pod "${podName}" not found` } : { instance: componentLog };
    }
    const worker = [...this.workers.values()].find((w) => w.ref.namespace === namespace && w.ref.name === podName);
    if (!worker) return { status: 404, message: `pod "${podName}" in namespace "${namespace}" not found on node ${this.name}` };
    const state = worker.runtimeState;
    const runtime = [...state.initContainers, ...state.containers].find((c) => c.name === container);
    if (!runtime) return { status: 400, message: `container "${container}" in pod "${podName}" is not valid` };
    const instance = this.logs.get(namespace, podName, container, previous);
    if (previous) {
      if (!instance) return { status: 400, message: `previous terminated container "${container}" in pod "${podName}" not found` };
      return { instance };
    }
    if (!instance) {
      const reason = runtime.state.kind === 'waiting' ? runtime.state.reason : 'ContainerCreating';
      return { status: 400, message: `container "${container}" in pod "${podName}" is waiting to start: ${reason}` };
    }
    return { instance };
  }

  // PodSink: where this node's pod workers write.
  async writeStatus(pod: PodRef, status: object): Promise<void> {
    if ((status as { phase?: unknown }).phase === 'Running') this.metrics.podRunning(pod.uid);
    await this.options.clients.writes.patchPodStatus(pod.namespace, pod.name, status);
  }

  async confirmDeletion(pod: PodRef): Promise<void> {
    try {
      await this.options.clients.writes.confirmPodDeletion(pod.namespace, pod.name, pod.uid);
    } catch (error) {
      const code = statusCodeOf(error);
      // 404: already gone; 409: a different pod (new UID) now has this name. Either way this pod is done.
      if (code !== 404 && code !== 409) throw error;
    }
  }

  event(pod: PodRef, fieldPath: string | undefined, text: EventText): void {
    if (text.reason === 'Started') {
      this.metrics.containerStarted(fieldPath?.startsWith('spec.initContainers') ?? false);
      const container = /\{(.*)\}$/.exec(fieldPath ?? '')?.[1] ?? '';
      this.v2(`"SyncLoop (PLEG): event for pod" pod="${pod.namespace}/${pod.name}" event={"ID":"${pod.uid}","Type":"ContainerStarted","Data":"${container}"}`);
    } else if (text.reason === 'Killing') {
      const container = /\{(.*)\}$/.exec(fieldPath ?? '')?.[1] ?? '';
      this.v2(`"Killing container with a grace period" pod="${pod.namespace}/${pod.name}" podUID="${pod.uid}" containerName="${container}"`);
    }
    this.options.events.record(this.name, {
      kind: 'Pod', apiVersion: 'v1', name: pod.name, namespace: pod.namespace, uid: pod.uid,
      resourceVersion: pod.resourceVersion, fieldPath,
    }, text, this.options.clients.writes);
  }

  podFinished(pod: PodRef): void {
    const worker = this.workers.get(pod.uid);
    if (!worker) return;
    worker.remove();
    this.workers.delete(pod.uid);
    this.streaming.forgetPod(pod.uid);
    this.finished.add(pod.uid);
  }
}
