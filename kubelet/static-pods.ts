// Static pods and their mirror pods, as the kubelet keeps them for kubeadm's control plane: the node's static pods
// (here, the components `kubefacade up` runs in its own process: kube-apiserver, kube-scheduler,
// kube-controller-manager and the store) are mirrored into the API as pods `<name>-<node>` in kube-system, bound to
// the node, owned by the Node, annotated `kubernetes.io/config.mirror` (the static pod's hash), and Running since
// the process started. A mirror pod that is deleted is recreated, as the kubelet's syncPod does (a graceful delete
// is finished at once with the UID precondition, then the pod is created again). Their logs are the components' own
// log lines (clients/component-log.ts), which the node's log endpoint serves like a container's.

import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { ComponentLog } from '../clients/component-log.ts';
import type { KubeletClients } from './kube-client.ts';
import type { Logger } from './pod-worker.ts';
import type { PodUsageInput } from './resource-stats.ts';

export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const NAMESPACE = 'kube-system';

/** One static pod: a control-plane component of this process. */
export interface StaticPodSpec {
  /** kube-scheduler → mirror pod kube-scheduler-<node>. */
  name: string;
  image: string;
  command: string[];
  /** When the component started (the process's start): the pod's startTime and the container's startedAt. */
  startTimeMs: number;
  log: ComponentLog;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export class StaticPods {
  private readonly byPodName = new Map<string, StaticPodSpec>();
  /** Mirror pod UIDs this node created or adopted → pod name. */
  private readonly mirrors = new Map<string, string>();
  private readonly hostIp: string;
  private stopped = false;
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(private readonly nodeName: string, hostIp: string, private readonly clients: KubeletClients, pods: StaticPodSpec[], private readonly logger: Logger) {
    this.hostIp = hostIp;
    for (const pod of pods) this.byPodName.set(`${pod.name}-${nodeName}`, pod);
  }

  /** Whether `pod` is one of this node's mirror pods (it is then not run by a pod worker). */
  owns(pod: V1Pod): boolean {
    return pod.metadata?.namespace === NAMESPACE && this.byPodName.has(pod.metadata?.name ?? '')
      && MIRROR_POD_ANNOTATION in (pod.metadata?.annotations ?? {});
  }

  isMirror(uid: string): boolean {
    return this.mirrors.has(uid);
  }

  /**
   * The mirrored components as running pods, for the node's resource statistics (resource-stats.ts). They are
   * identified by their mirror pod's UID, the one metrics.k8s.io sees, so that both report the same usage.
   */
  usageInputs(): PodUsageInput[] {
    const inputs: PodUsageInput[] = [];
    for (const [uid, podName] of this.mirrors) {
      const spec = this.byPodName.get(podName);
      if (!spec) continue;
      inputs.push({
        uid, name: podName, namespace: NAMESPACE, startTimeMs: spec.startTimeMs, annotations: {},
        containers: [{ name: spec.name, containerId: `${this.nodeName}/${spec.name}/${spec.startTimeMs}`, startedAtMs: spec.startTimeMs }],
      });
    }
    return inputs;
  }

  /** The component log behind a mirror pod's container, if `namespace/pod/container` names one. */
  log(namespace: string, podName: string, container: string): ComponentLog | undefined {
    const spec = namespace === NAMESPACE ? this.byPodName.get(podName) : undefined;
    return spec && spec.name === container ? spec.log : undefined;
  }

  private hash(spec: StaticPodSpec): string {
    return createHash('sha256').update(JSON.stringify([spec.name, spec.image, spec.command, this.nodeName])).digest('hex').slice(0, 32);
  }

  private manifest(spec: StaticPodSpec, nodeUid: string): V1Pod {
    const hash = this.hash(spec);
    return {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name: `${spec.name}-${this.nodeName}`, namespace: NAMESPACE,
        labels: { component: spec.name, tier: 'control-plane' },
        annotations: {
          'kubernetes.io/config.hash': hash, [MIRROR_POD_ANNOTATION]: hash,
          'kubernetes.io/config.seen': new Date(spec.startTimeMs).toISOString(), 'kubernetes.io/config.source': 'file',
        },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: nodeUid, controller: true }],
      },
      spec: {
        nodeName: this.nodeName, hostNetwork: true, restartPolicy: 'Always', priorityClassName: 'system-node-critical',
        containers: [{ name: spec.name, image: spec.image, command: spec.command, imagePullPolicy: 'IfNotPresent' }],
        tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
      },
    };
  }

  private status(spec: StaticPodSpec): object {
    const started = rfc3339(spec.startTimeMs);
    const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: started });
    return {
      phase: 'Running', hostIP: this.hostIp, hostIPs: [{ ip: this.hostIp }], podIP: this.hostIp, podIPs: [{ ip: this.hostIp }],
      startTime: started, qosClass: 'BestEffort',
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(condition),
      containerStatuses: [{
        name: spec.name, image: spec.image, imageID: `${spec.image}@sha256:${createHash('sha256').update(spec.image).digest('hex')}`,
        containerID: `containerd://${createHash('sha256').update(`${this.nodeName}/${spec.name}/${spec.startTimeMs}`).digest('hex')}`,
        ready: true, started: true, restartCount: 0, state: { running: { startedAt: started } },
      }],
    };
  }

  /** Creates (or adopts) every mirror pod and sets its status. */
  async sync(nodeUid: string): Promise<void> {
    await Promise.all([...this.byPodName.values()].map((spec) => this.ensure(spec, nodeUid).catch((error: unknown) => {
      this.logger.warn(`node ${this.nodeName}: mirror pod ${spec.name}-${this.nodeName}: ${String(error)}`);
    })));
  }

  private async ensure(spec: StaticPodSpec, nodeUid: string): Promise<void> {
    if (this.stopped) return;
    const { core } = this.clients;
    const name = `${spec.name}-${this.nodeName}`;
    let pod: V1Pod;
    try {
      pod = await core.createNamespacedPod({ namespace: NAMESPACE, body: this.manifest(spec, nodeUid) });
      this.logger.info(`node ${this.nodeName}: created mirror pod ${NAMESPACE}/${name}`);
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
      pod = await core.readNamespacedPod({ namespace: NAMESPACE, name });
      if (pod.metadata?.deletionTimestamp) return this.replace(pod);
    }
    const uid = pod.metadata?.uid ?? '';
    this.mirrors.set(uid, name);
    await this.clients.writes.patchPodStatus(NAMESPACE, name, this.status(spec));
  }

  /** A mirror pod marked for deletion: finish the deletion now (UID precondition); the watch's DELETED recreates it. */
  private async replace(pod: V1Pod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.clients.writes.confirmPodDeletion(NAMESPACE, name, pod.metadata?.uid ?? '');
    } catch (error) {
      const code = statusCodeOf(error);
      if (code !== 404 && code !== 409) throw error;
    }
  }

  /** The watch delivered one of our mirror pods. */
  changed(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (pod.metadata?.deletionTimestamp) {
      this.replace(pod).catch((error: unknown) => this.logger.warn(`node ${this.nodeName}: deleting mirror pod ${pod.metadata?.name}: ${String(error)}`));
      return;
    }
    if (!this.mirrors.has(uid)) this.mirrors.set(uid, pod.metadata?.name ?? '');
    const spec = this.byPodName.get(pod.metadata?.name ?? '');
    if (spec && pod.status?.phase !== 'Running') {
      this.clients.writes.patchPodStatus(NAMESPACE, pod.metadata?.name ?? '', this.status(spec))
        .catch((error: unknown) => this.logger.warn(`node ${this.nodeName}: mirror pod status: ${String(error)}`));
    }
  }

  /** A mirror pod is gone from the API: the kubelet creates it again. */
  deleted(uid: string, nodeUid: string | undefined): void {
    const name = this.mirrors.get(uid);
    if (name === undefined) return;
    this.mirrors.delete(uid);
    const spec = this.byPodName.get(name);
    if (!spec || this.stopped || !nodeUid) return;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      this.ensure(spec, nodeUid).catch((error: unknown) => this.logger.warn(`node ${this.nodeName}: recreating mirror pod ${name}: ${String(error)}`));
    }, 100);
    this.pending.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.pending) clearTimeout(timer);
  }
}
