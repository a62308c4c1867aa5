// Runs one pod on one simulated node, as the kubelet's pod worker does: init containers in order, then app
// containers (pull → create → start, each with its events), exits and CrashLoopBackOff restarts, and graceful
// termination ending in the kubelet's confirming DELETE. Status writes are coalesced, like the status manager's.
//
// A worker keeps only what it needs of its pod (a PodView and per-container slots), not the V1Pod the watch delivered:
// with 150,000 pods in one process, the typed object a worker held onto was most of the kubelet's memory per pod.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { Aborted, sleep } from './abortable-sleep.ts';
import type { ServiceEnvironment } from './service-environment.ts';
import { containerBehaviour, type ContainerBehaviour } from './container-behaviour.ts';
import { containerConfigReferences, waitForContainerConfig, type ConfigReference, type ConfigSource } from './container-config.ts';
import { runContainerProbes } from './probe-runner.ts';
import { missingPullSecrets, podVolumeReferences, waitForVolumes, type VolumeReference } from './volume-sources.ts';
import { containerProbes, type ContainerProbes } from './probes.ts';
import type { ContainerLogInstance, NodeLogStore } from './container-logs.ts';
import { decideRestart, shouldRestart, type BackOffEntry, type BackOffPolicy } from './crash-loop-backoff.ts';
import { crashLoopMessage, podEvents, type EventText, type PodIdentity } from './event-text.ts';
import type { ImagePuller } from './image-puller.ts';
import { containerIdFor, effectivePullPolicy, imageSizeBytes } from './images.ts';
import type { PodIpAllocator } from './node-addressing.ts';
import { terminationReason, waitingState, type ContainerRuntimeState, type PodRuntimeState, type TerminatedState } from './pod-runtime-state.ts';
import { adoptRuntimeState } from './pod-adoption.ts';
import { composePodStatus, qosClass, type PodStatusOut } from './pod-status.ts';
import { viewOf, type PodView } from './pod-view.ts';
import type { ContainerUsageInput, PodUsageInput } from './resource-stats.ts';
import { CPU_USAGE_ANNOTATION, MEMORY_USAGE_ANNOTATION, type ContainerLike } from './simulated-usage.ts';

export interface PodRef extends PodIdentity {
  resourceVersion?: string;
}

/** Where a pod worker's results go: the API server in production, a recorder in unit tests. */
export interface PodSink {
  writeStatus(pod: PodRef, status: PodStatusOut): Promise<void>;
  /** DELETE with gracePeriodSeconds=0 and a UID precondition. */
  confirmDeletion(pod: PodRef): Promise<void>;
  event(pod: PodRef, fieldPath: string | undefined, text: EventText): void;
  /** The deletion is confirmed: the node can drop the worker without waiting for the watch's DELETED. */
  podFinished(pod: PodRef): void;
}

export interface PodWorkerTiming {
  /** Between a pulled image and the container's creation. */
  stepDelayMs: number;
  /** How long a running container takes to stop once asked (bounded by the grace period). */
  stopDelayMs: number;
  /** Run time of an init container whose command says nothing about it. */
  initContainerRunMs: number;
  backoff: BackOffPolicy;
  /** Wait before retrying a failed status write. */
  retryDelayMs: number;
}

export interface PodWorkerNode {
  name: string;
  hostIp: string;
  ips: PodIpAllocator;
  puller: ImagePuller;
  logs: NodeLogStore;
  /** Reads the ConfigMaps and Secrets containers take their environment from (none: not checked). */
  config?: ConfigSource;
  /** The services the process has seen, for the service variables of a container's environment. */
  services?: ServiceEnvironment;
  /** The handler of a RuntimeClass, undefined when it does not exist (none: not checked). */
  runtimeHandler?: (runtimeClassName: string) => Promise<string | undefined>;
}

/** The pod worker's retry after a failed sync (the kubelet's backOffPeriod). */
const SYNC_RETRY_MS = 10_000;

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** The part of a container's spec the simulated runtime uses once the behaviour is derived. */
interface ContainerSpecView {
  name: string;
  image: string;
  imagePullPolicy?: string;
  /** A shell or sleep as PID 1 ignores SIGTERM and is killed when the grace period ends (exit 137). */
  ignoresSigterm: boolean;
  /** ConfigMaps and Secrets its env and envFrom read. */
  configRefs: ConfigReference[];
  /** Requests and limits, from which the simulated usage is derived (simulated-usage.ts). */
  resources?: ContainerLike['resources'];
}

interface ContainerSlot {
  runtime: ContainerRuntimeState;
  spec: ContainerSpecView;
  behaviour: ContainerBehaviour;
  probes: ContainerProbes;
  backoff?: BackOffEntry;
  log?: ContainerLogInstance;
  /** Bumped when the kubelet replaces the running instance (a spec change): older exit timers then stand down. */
  generation: number;
  /** Ends the running instance's probes (the instance exited or the pod stops). */
  probing?: AbortController;
  /** Kills the running instance (a failed liveness or startup probe): resolves its wait for an exit. */
  kill?: (exitCode: number) => void;
}

const SHELL_PROGRAMS = /(^|\/)(sh|bash|ash|dash|sleep)$/;

function fieldPath(slot: ContainerSlot): string {
  return `spec.${slot.runtime.isInit ? 'initContainers' : 'containers'}{${slot.spec.name}}`;
}

export class PodWorker {
  private view: PodView;
  /** Kept only until start() has looked at the status a previous kubelet process left (adoption). */
  private initialPod?: V1Pod;
  private readonly qosClass: string;
  private readonly hostNetwork: boolean;
  /** spec.enableServiceLinks (default true): the namespace's services give variables to the containers. */
  private readonly enableServiceLinks: boolean;
  private readonly runtimeClassName: string | undefined;
  private readonly state: PodRuntimeState;
  private readonly inits: ContainerSlot[];
  private readonly apps: ContainerSlot[];
  /** ConfigMap, Secret and projected volumes to set up, and the pull secrets to look for, before containers start. */
  private readonly volumes: VolumeReference[];
  private readonly pullSecrets: V1Pod | undefined;
  /** Ephemeral containers (kubectl debug), started as they appear in the pod's spec. */
  private readonly ephemerals: ContainerSlot[] = [];
  private readonly makeSlot: (container: V1Container, isInit: boolean) => ContainerSlot;
  private readonly lifecycle = new AbortController();
  private readonly gone = new AbortController();
  private terminating = false;
  private deadlineTimer?: NodeJS.Timeout;
  private syncRunning = false;
  private syncWanted = false;
  private syncWaiters: (() => void)[] = [];

  constructor(pod: V1Pod, private readonly node: PodWorkerNode, private readonly sink: PodSink,
    private readonly timing: PodWorkerTiming, private readonly logger: Logger) {
    this.view = viewOf(pod);
    this.initialPod = pod;
    const spec = pod.spec!;
    this.qosClass = qosClass(spec.containers);
    this.hostNetwork = spec.hostNetwork === true;
    this.enableServiceLinks = spec.enableServiceLinks !== false;
    this.runtimeClassName = spec.runtimeClassName || undefined;
    const annotations = pod.metadata?.annotations ?? {};
    const slot = (container: V1Container, isInit: boolean): ContainerSlot => {
      const isSidecar = isInit && container.restartPolicy === 'Always';
      const argv0 = container.command?.[0] ?? container.args?.[0] ?? '';
      return {
        generation: 0,
        spec: {
          name: container.name, image: container.image ?? '', imagePullPolicy: container.imagePullPolicy,
          ignoresSigterm: SHELL_PROGRAMS.test(argv0), configRefs: containerConfigReferences(container),
          resources: container.resources as ContainerLike['resources'],
        },
        behaviour: containerBehaviour({ container, annotations, isInitContainer: isInit && !isSidecar, defaultInitRunMs: timing.initContainerRunMs }),
        // Regular init containers are not probed (validation forbids probes on them).
        probes: isInit && !isSidecar ? {} : containerProbes(container),
        runtime: {
          name: container.name, image: container.image ?? '', isInit: isInit && !isSidecar, isSidecar, restartCount: 0,
          state: waitingState((spec.initContainers ?? []).length > 0 ? 'PodInitializing' : 'ContainerCreating'), imageResolved: false,
        },
      };
    };
    this.makeSlot = slot;
    this.inits = (spec.initContainers ?? []).map((container) => slot(container, true));
    this.apps = spec.containers.map((container) => slot(container, false));
    this.volumes = podVolumeReferences(pod);
    this.pullSecrets = spec.imagePullSecrets?.length ? { metadata: { namespace: pod.metadata?.namespace }, spec: { containers: [], imagePullSecrets: spec.imagePullSecrets } } : undefined;
    this.state = {
      uid: pod.metadata!.uid!, name: pod.metadata!.name!, namespace: pod.metadata!.namespace ?? 'default',
      restartPolicy: spec.restartPolicy ?? 'Always', hostIp: node.hostIp, sandboxReady: false,
      initContainers: this.inits.map((s) => s.runtime), containers: this.apps.map((s) => s.runtime),
      terminal: false, conditions: new Map(),
    };
  }

  get ref(): PodRef {
    return { name: this.state.name, namespace: this.state.namespace, uid: this.state.uid, resourceVersion: this.view.resourceVersion };
  }

  get runtimeState(): Readonly<PodRuntimeState> {
    return this.state;
  }

  /**
   * The pod's running regular containers and its usage annotations, for the node's resource statistics
   * (resource-stats.ts); undefined while the pod has no sandbox or is finished, as it then has no cgroup to measure.
   */
  usageInput(): PodUsageInput | undefined {
    if (!this.state.sandboxReady || this.state.terminal) return undefined;
    const containers: ContainerUsageInput[] = [];
    for (const slot of this.apps) {
      const { state, containerId, restartCount } = slot.runtime;
      if (state.kind !== 'running') continue;
      containers.push({
        name: slot.spec.name, resources: slot.spec.resources, startedAtMs: state.startedAtMs,
        containerId: containerId ?? `${this.state.uid}/${slot.spec.name}/${restartCount}`,
      });
    }
    return {
      uid: this.state.uid, name: this.state.name, namespace: this.state.namespace, startTimeMs: this.state.startTimeMs, containers,
      annotations: { [CPU_USAGE_ANNOTATION]: this.view.cpuUsage, [MEMORY_USAGE_ANNOTATION]: this.view.memoryUsage },
    };
  }

  /** Starts the lifecycle (or adopts a pod this node already ran before a kubelet restart). */
  start(): void {
    const pod = this.initialPod!;
    this.initialPod = undefined;
    const adopted = adoptRuntimeState(pod, this.state, this.node.ips);
    if (adopted === 'terminal') return void this.update(pod);
    const run = adopted === 'running' ? this.resumeAdopted() : this.run();
    run.catch((error: unknown) => {
      if (!(error instanceof Aborted)) this.logger.warn(`pod ${this.state.namespace}/${this.state.name}: ${String(error)}`);
    });
    this.update(pod);
  }

  /** A newer version of the pod arrived from the watch. */
  update(pod: V1Pod): void {
    this.view = viewOf(pod);
    this.armActiveDeadline();
    if (!this.view.deletionRequested && !this.terminating) this.applyImageChanges(pod);
    this.startNewEphemeralContainers(pod);
    if (this.view.deletionRequested && !this.terminating) {
      this.terminating = true;
      this.lifecycle.abort();
      this.terminate().catch((error: unknown) => {
        if (!(error instanceof Aborted)) this.logger.warn(`pod ${this.state.namespace}/${this.state.name}: termination: ${String(error)}`);
      });
    }
  }

  /**
   * Starts ephemeral containers the spec has and this worker does not run yet, once the sandbox is up and while the
   * pod is not being torn down. They run once: an exit is final (no restart, whatever the pod's policy).
   */
  private startNewEphemeralContainers(pod: V1Pod): void {
    const wanted = (pod.spec?.ephemeralContainers ?? []) as V1Container[];
    if (wanted.length === this.ephemerals.length || this.terminating || this.view.deletionRequested || this.state.terminal || this.state.failure) return;
    for (const container of wanted) {
      if (this.ephemerals.some((slot) => slot.spec.name === container.name)) continue;
      const slot = this.makeSlot(container, false);
      slot.runtime.state = waitingState('ContainerCreating');
      this.ephemerals.push(slot);
      (this.state.ephemeralContainers ??= []).push(slot.runtime);
      const run = async (): Promise<void> => {
        if (!(await this.startContainer(slot))) return;
        this.requestSync();
        if ((await this.awaitExit(slot)) !== undefined) this.requestSync();
      };
      run().catch((error: unknown) => {
        if (!(error instanceof Aborted)) this.logger.warn(`pod ${this.state.namespace}/${this.state.name} ephemeral container ${container.name}: ${String(error)}`);
      });
    }
    this.requestSync();
  }

  /**
   * The main process of an ephemeral container ended (the shell `kubectl debug -it` attached to exited): the
   * container terminates for good, as it would in a runtime.
   */
  ephemeralProcessExited(name: string, exitCode: number): void {
    const slot = this.ephemerals.find((s) => s.spec.name === name);
    if (!slot || slot.runtime.state.kind !== 'running') return;
    slot.runtime.state = {
      kind: 'terminated',
      terminated: { exitCode, reason: terminationReason(exitCode), startedAtMs: slot.runtime.state.startedAtMs, finishedAtMs: Date.now(), containerId: slot.runtime.containerId ?? '' },
    };
    slot.log?.append(`kubefacade: simulated container "${name}" exited with code ${exitCode}`);
    slot.log?.finish();
    this.requestSync();
  }

  /** The pod is gone from the API: drop everything. */
  remove(): void {
    clearTimeout(this.deadlineTimer);
    this.lifecycle.abort();
    this.gone.abort();
    this.node.ips.release(this.state.uid);
    this.node.logs.removePod(this.state.namespace, this.state.name);
  }

  private get signal(): AbortSignal {
    return this.lifecycle.signal;
  }

  private async run(): Promise<void> {
    this.state.startTimeMs = Date.now();
    await this.awaitRuntimeHandler();
    this.state.podIp = this.hostNetwork ? this.node.hostIp : this.node.ips.allocate(this.state.uid);
    this.state.podIps = this.hostNetwork ? [this.node.hostIp] : this.node.ips.addressesOf(this.state.podIp);
    this.state.sandboxReady = true;
    this.requestSync();
    await this.prepareVolumes();
    for (const slot of this.inits) {
      if (slot.runtime.isSidecar) {
        if (!(await this.startContainer(slot))) return;
        this.supervise(slot);
        continue;
      }
      if (!(await this.runInitToCompletion(slot))) return;
    }
    for (const slot of this.apps) slot.runtime.state = waitingState('ContainerCreating');
    this.requestSync();
    for (const [index, slot] of this.apps.entries()) {
      if (!(await this.startContainer(slot))) continue;
      this.supervise(slot);
      // Write now only if the next container still has a pull ahead (the kubelet's PLEG would see this one running
      // meanwhile); otherwise one write covers the whole pass, as a SyncPod that starts every container does.
      const next = this.apps[index + 1];
      if (next && this.needsPull(next)) this.requestSync();
    }
    this.requestSync();
  }

  /**
   * createPodSandbox looks the pod's RuntimeClass up first (runtimeclass.Manager.LookupRuntimeHandler): while it
   * does not exist (deleted after the pod was admitted), every sync fails with FailedCreatePodSandBox and the pod
   * stays Pending in ContainerCreating, retried after the pod worker's back-off.
   */
  private async awaitRuntimeHandler(): Promise<void> {
    const name = this.runtimeClassName;
    const lookup = this.node.runtimeHandler;
    if (!name || !lookup) return;
    for (;;) {
      let problem: string;
      try {
        if ((await lookup(name)) !== undefined) return;
        problem = `runtimeclass.node.k8s.io "${name}" not found`;
      } catch (error) {
        problem = `failed to lookup RuntimeClass ${name}: ${String(error)}`;
      }
      this.requestSync();
      this.sink.event(this.ref, undefined, { type: 'Warning', reason: 'FailedCreatePodSandBox', message: `Failed to create pod sandbox: ${problem}` });
      await sleep(SYNC_RETRY_MS, this.signal);
    }
  }

  /** Volumes the API must provide, and the pull secrets' existence (kubelet/volume-sources.ts). */
  private async prepareVolumes(): Promise<void> {
    const source = this.node.config;
    if (!source) return;
    const podEvent = (text: EventText) => this.sink.event(this.ref, undefined, text);
    if (this.volumes.length > 0) await waitForVolumes(source, this.state.namespace, this.volumes, podEvent, this.signal);
    if (this.pullSecrets) {
      const missing = await missingPullSecrets(source, this.pullSecrets).catch(() => []);
      if (missing.length > 0) {
        podEvent({ type: 'Warning', reason: 'FailedToRetrieveImagePullSecret', message: `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.` });
      }
    }
  }

  private async resumeAdopted(): Promise<void> {
    for (const slot of [...this.inits.filter((s) => s.runtime.isSidecar), ...this.apps]) {
      if (slot.runtime.state.kind !== 'running') continue;
      slot.log = this.node.logs.startInstance(this.state.namespace, this.state.name, slot.spec.name);
      slot.log.append(`kubefacade: simulated container "${slot.spec.name}" adopted after a kubelet restart`);
      this.supervise(slot);
    }
    this.requestSync();
  }

  /** Runs a regular init container until it exits 0; false if the pod cannot go on (failed for good, or stopped). */
  private async runInitToCompletion(slot: ContainerSlot): Promise<boolean> {
    for (;;) {
      if (!(await this.startContainer(slot))) return false;
      this.requestSync();
      const exit = await this.awaitExit(slot);
      if (exit === undefined) return false;
      if (exit === 0) {
        this.requestSync();
        return true;
      }
      if (!shouldRestart(this.state.restartPolicy, exit)) {
        this.requestSync();
        return false;
      }
      await this.backOffBeforeRestart(slot);
    }
  }

  private needsPull(slot: ContainerSlot): boolean {
    const policy = effectivePullPolicy(slot.spec.image, slot.spec.imagePullPolicy);
    return policy === 'Always' || (policy === 'IfNotPresent' && !this.node.puller.images.has(slot.spec.image));
  }

  /** Pull, create and start one container; false when the image can never be had (pull policy Never). */
  private async startContainer(slot: ContainerSlot): Promise<boolean> {
    const { spec, runtime } = slot;
    const image = spec.image;
    const policy = effectivePullPolicy(image, spec.imagePullPolicy);
    const present = this.node.puller.images.has(image);
    if (policy === 'Never' && !present) {
      runtime.state = waitingState('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
      this.emit(slot, podEvents.neverPull(image));
      this.requestSync();
      return false;
    }
    if (policy === 'Always' || !present) {
      this.emit(slot, podEvents.pulling(image));
      const pulled = await this.node.puller.pull(image, this.signal);
      this.emit(slot, podEvents.pulled(image, pulled.pullMs, pulled.totalMs, imageSizeBytes(image)));
    } else {
      this.emit(slot, podEvents.alreadyPresent(image));
    }
    runtime.imageResolved = true;
    await this.awaitContainerConfig(slot);
    // No timer at all for a zero step: the whole start then completes before the status manager's next write, which
    // then carries the final state only (as the kubelet's status manager writes the latest status, not every step).
    if (this.timing.stepDelayMs > 0) await sleep(this.timing.stepDelayMs, this.signal);
    else if (this.signal.aborted) throw new Aborted();
    runtime.containerId = containerIdFor(this.state.uid, spec.name, runtime.restartCount);
    runtime.serviceEnv = this.node.services?.variablesFor(this.state.namespace, this.enableServiceLinks);
    this.emit(slot, podEvents.created(spec.name));
    slot.log = this.node.logs.startInstance(this.state.namespace, this.state.name, spec.name);
    slot.log.append(`kubefacade: simulated container "${spec.name}" (image ${image}) started`);
    for (const line of slot.behaviour.output) slot.log.append(line);
    runtime.state = { kind: 'running', startedAtMs: Date.now() };
    runtime.probeReady = slot.probes.readiness ? false : undefined;
    runtime.probeStarted = slot.probes.startup ? false : undefined;
    this.emit(slot, podEvents.started(spec.name));
    this.startProbes(slot);
    return true;
  }

  /** Runs the instance's probes until it exits (kubelet/probe-runner.ts). */
  private startProbes(slot: ContainerSlot): void {
    slot.probing?.abort();
    slot.probing = runContainerProbes({
      probes: slot.probes, container: slot.spec.name, runtime: slot.runtime, podSignal: this.signal,
      failProbes: () => this.view.failProbes, podIp: () => this.state.podIp ?? '',
      emit: (text) => this.emit(slot, text), requestSync: () => this.requestSync(), kill: (code) => slot.kill?.(code),
      warn: (message) => this.logger.warn(`pod ${this.state.namespace}/${this.state.name} container ${slot.spec.name}: ${message}`),
    });
  }

  /** Until the ConfigMaps and Secrets the container's environment reads exist (kubelet/container-config.ts). */
  private async awaitContainerConfig(slot: ContainerSlot): Promise<void> {
    if (!this.node.config || slot.spec.configRefs.length === 0) return;
    await waitForContainerConfig({
      source: this.node.config, namespace: this.state.namespace, refs: slot.spec.configRefs, runtime: slot.runtime, signal: this.signal,
      emit: (text) => this.emit(slot, text), requestSync: () => this.requestSync(),
    });
  }

  /** Waits for the running container's modelled exit and records it; undefined if it never exits. */
  private async awaitExit(slot: ContainerSlot): Promise<number | undefined> {
    const { runtime } = slot;
    const failing = (slot.behaviour.failingRuns ?? 0) > runtime.restartCount;
    const exit = failing ? { afterMs: 0, code: 1 } : slot.behaviour.exit;
    const killable = slot.probes.liveness !== undefined || slot.probes.startup !== undefined;
    if ((!exit && !killable) || runtime.state.kind !== 'running') return undefined;
    const startedAtMs = runtime.state.startedAtMs;
    // A spec change replaces the running instance (generation + 1): this wait then stands down.
    const generation = slot.generation;
    const outcomes: Promise<number>[] = [];
    if (exit) outcomes.push(sleep(startedAtMs + exit.afterMs - Date.now(), this.signal).then(() => exit.code));
    if (killable) {
      outcomes.push(new Promise<number>((resolve, reject) => {
        slot.kill = resolve;
        if (this.signal.aborted) reject(new Aborted());
        else this.signal.addEventListener('abort', () => reject(new Aborted()), { once: true });
      }));
    }
    let code: number;
    try {
      code = await Promise.race(outcomes);
    } finally {
      if (slot.generation === generation) {
        slot.kill = undefined;
        slot.probing?.abort();
      }
    }
    if (slot.generation !== generation) return undefined;
    const finishedAtMs = Date.now();
    runtime.state = {
      kind: 'terminated',
      terminated: { exitCode: code, reason: terminationReason(code), startedAtMs, finishedAtMs, containerId: runtime.containerId ?? '' },
    };
    runtime.probeReady = undefined;
    runtime.probeStarted = undefined;
    slot.log?.append(`kubefacade: simulated container "${slot.spec.name}" exited with code ${code}`);
    slot.log?.finish();
    return code;
  }

  /** Applies the kubelet's back-off after an exit; shows CrashLoopBackOff while waiting. */
  private async backOffBeforeRestart(slot: ContainerSlot): Promise<void> {
    const { runtime } = slot;
    if (runtime.state.kind !== 'terminated') return;
    const terminated = runtime.state.terminated;
    const decision = decideRestart(slot.backoff, terminated.finishedAtMs, this.timing.backoff);
    runtime.lastTerminated = terminated;
    if (decision.delayMs > 0) {
      runtime.state = waitingState('CrashLoopBackOff', crashLoopMessage(decision.delayMs, slot.spec.name, this.state));
      this.emit(slot, podEvents.backOff(slot.spec.name, this.state));
      this.requestSync();
      await sleep(decision.delayMs, this.signal);
    }
    slot.backoff = decision.next;
    runtime.restartCount++;
  }

  /** Keeps a long-running container (app or sidecar) going: exits, back-off and restarts per the policy. */
  private supervise(slot: ContainerSlot): void {
    const loop = async (): Promise<void> => {
      for (;;) {
        const exit = await this.awaitExit(slot);
        if (exit === undefined) return;
        const policy = slot.runtime.isSidecar ? 'Always' : this.state.restartPolicy;
        if (!shouldRestart(policy, exit)) {
          this.requestSync();
          return;
        }
        await this.backOffBeforeRestart(slot);
        if (!(await this.startContainer(slot))) return;
        this.requestSync();
      }
    };
    loop().catch((error: unknown) => {
      if (!(error instanceof Aborted)) this.logger.warn(`pod ${this.state.namespace}/${this.state.name} container ${slot.spec.name}: ${String(error)}`);
    });
  }

  /**
   * An update may change a container's image (the only container field the API lets change). The
   * kubelet sees the container's spec hash change and restarts it: Killing "Container c definition
   * changed, will be restarted", then Pulling/Pulled, Created, Started with the new image, one more
   * restart, the new imageID. A container not started yet simply starts with the new image.
   */
  private applyImageChanges(pod: V1Pod): void {
    const images = new Map((pod.spec?.containers ?? []).map((container) => [container.name, container.image ?? '']));
    for (const slot of this.apps) {
      const image = images.get(slot.spec.name);
      if (image === undefined || image === slot.spec.image) continue;
      const state = slot.runtime.state.kind;
      if (state === 'running') {
        this.restartWithImage(slot, image).catch((error: unknown) => {
          if (!(error instanceof Aborted)) this.logger.warn(`pod ${this.state.namespace}/${this.state.name} container ${slot.spec.name}: ${String(error)}`);
        });
      } else {
        slot.spec.image = image;
        slot.runtime.image = image;
        slot.runtime.imageResolved = false;
      }
    }
  }

  private async restartWithImage(slot: ContainerSlot, image: string): Promise<void> {
    const { runtime } = slot;
    if (runtime.state.kind !== 'running') return;
    slot.generation++;
    this.emit(slot, { type: 'Normal', reason: 'Killing', message: `Container ${slot.spec.name} definition changed, will be restarted` });
    const terminated = this.stoppedInstance(slot, Date.now());
    slot.log?.append(`kubefacade: simulated container "${slot.spec.name}" stopped for a new image`);
    slot.log?.finish();
    runtime.lastTerminated = terminated;
    runtime.state = waitingState('ContainerCreating');
    slot.spec.image = image;
    runtime.image = image;
    runtime.imageResolved = false;
    runtime.restartCount++;
    this.requestSync();
    if (!(await this.startContainer(slot))) return;
    this.supervise(slot);
    this.requestSync();
  }

  /**
   * activeDeadlineSeconds, counted from the pod's start on this node (status.startTime): when it
   * passes, the kubelet stops every container and fails the pod with DeadlineExceeded. A spec update
   * may shorten it (the API allows only that), so the timer is re-armed on every update.
   */
  private armActiveDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const deadline = this.view.activeDeadlineSeconds;
    if (deadline === undefined || this.state.startTimeMs === undefined || this.state.failure || this.state.terminal || this.terminating) return;
    const remainingMs = this.state.startTimeMs + deadline * 1000 - Date.now();
    this.deadlineTimer = setTimeout(() => this.failActiveDeadline(), Math.max(0, remainingMs));
    this.deadlineTimer.unref?.();
  }

  private failActiveDeadline(): void {
    if (this.state.failure || this.state.terminal || this.terminating) return;
    const text = podEvents.deadlineExceeded();
    this.sink.event(this.ref, undefined, text);
    this.state.failure = { reason: text.reason, message: text.message };
    this.lifecycle.abort();
    this.stopContainers();
    this.state.sandboxReady = false;
    this.requestSync();
  }

  /** Kills what runs (Killing events), then records every container as stopped. */
  private stopContainers(): void {
    for (const slot of [...this.apps, ...this.inits, ...this.ephemerals]) if (slot.runtime.state.kind === 'running') this.emit(slot, podEvents.killing(slot.spec.name));
    this.markStopped(Date.now());
  }

  /**
   * A stopped pod's containers: what ran is terminated (137 for a PID 1 that ignores SIGTERM), and
   * an app container that never started, in a pod whose sandbox was up, shows ContainerStatusUnknown.
   */
  private markStopped(now: number): void {
    for (const slot of [...this.inits, ...this.apps, ...this.ephemerals]) {
      const { runtime } = slot;
      if (runtime.state.kind === 'running') {
        runtime.state = { kind: 'terminated', terminated: this.stoppedInstance(slot, now) };
        slot.log?.append(`kubefacade: simulated container "${slot.spec.name}" stopped`);
        slot.log?.finish();
      } else if (runtime.state.kind === 'waiting' && this.state.sandboxReady && !runtime.lastTerminated && !runtime.isInit) {
        runtime.state = { kind: 'terminated', terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', startedAtMs: now, finishedAtMs: now, containerId: '' } };
      }
    }
  }

  /** The terminated state of a running instance stopped now. */
  private stoppedInstance(slot: ContainerSlot, now: number): TerminatedState {
    const state = slot.runtime.state;
    const exitCode = slot.spec.ignoresSigterm ? 137 : 0;
    return {
      exitCode, reason: terminationReason(exitCode), startedAtMs: state.kind === 'running' ? state.startedAtMs : now, finishedAtMs: now, containerId: slot.runtime.containerId ?? '',
    };
  }

  private async terminate(): Promise<void> {
    const running = [...this.apps, ...this.inits, ...this.ephemerals].filter((slot) => slot.runtime.state.kind === 'running');
    for (const slot of running) this.emit(slot, podEvents.killing(slot.spec.name));
    const graceSeconds = this.view.graceSeconds;
    if (running.length > 0) await sleep(Math.min(this.timing.stopDelayMs, graceSeconds * 1000), this.gone.signal);
    this.markStopped(Date.now());
    const wasRunning = this.state.sandboxReady;
    this.state.sandboxReady = false;
    this.state.terminal = true;
    if (wasRunning) await this.flushStatus();
    if (this.gone.signal.aborted) return;
    await this.sink.confirmDeletion(this.ref);
    this.sink.podFinished(this.ref);
  }

  private emit(slot: ContainerSlot, text: EventText): void {
    this.sink.event(this.ref, fieldPath(slot), text);
  }

  /** Asks for a status write soon; several requests in a row produce one write of the latest state. */
  requestSync(): void {
    this.syncWanted = true;
    if (this.syncRunning) return;
    this.syncRunning = true;
    setImmediate(() => void this.syncLoop());
  }

  private async syncLoop(): Promise<void> {
    while (this.syncWanted && !this.gone.signal.aborted) {
      this.syncWanted = false;
      const status = composePodStatus(this.state, {
        nowMs: Date.now(), qosClass: this.qosClass, foreignConditions: this.view.foreignConditions,
      });
      try {
        await this.sink.writeStatus(this.ref, status);
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code === 404) break;
        this.logger.warn(`pod ${this.state.namespace}/${this.state.name}: status update failed: ${String(error)}`);
        this.syncWanted = true;
        try {
          await sleep(this.timing.retryDelayMs, this.gone.signal);
        } catch {
          break;
        }
      }
    }
    this.syncRunning = false;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Writes the current state and resolves once it is written (or the pod is gone). */
  flushStatus(): Promise<void> {
    return new Promise((resolve) => {
      this.syncWaiters.push(resolve);
      this.requestSync();
    });
  }
}
