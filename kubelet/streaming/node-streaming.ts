// A node's answers to streaming requests: which container instance an exec or attach runs in (created from the pod's
// spec on first use and kept until the container restarts), and which ports a port-forward can reach. Pod specs are
// read from the API server when a session starts, not kept per pod: the workers hold only what their lifecycle needs.
import { createHash } from 'node:crypto';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerLogInstance, NodeLogStore } from '../container-logs.ts';
import type { PodRuntimeState } from '../pod-runtime-state.ts';
import type { PodContentReader } from '../shell/config-content.ts';
import { ContainerInstance } from '../shell/container-instance.ts';
import { imageProfile } from '../shell/image-profiles.ts';
import { isShell } from '../shell/shell.ts';
import type { PortForwardTarget } from './port-forward.ts';
import type { PortOwner } from './simulated-port.ts';
import type { AttachTarget, RuntimeLookup, StreamingRuntime } from './streaming-server.ts';

export interface NodeStreamingDeps {
  findPod(namespace: string, name: string): Readonly<PodRuntimeState> | undefined;
  /** An ephemeral container's attached main process exited. */
  ephemeralExited(namespace: string, pod: string, container: string, exitCode: number): void;
  readPod(namespace: string, name: string): Promise<V1Pod>;
  logs: NodeLogStore;
  hostIp: string;
  allocatable: { cpu: string; memory: string };
  /** Reads the ConfigMaps, Secrets and tokens a container's env and volumes show. */
  content?: PodContentReader;
}

export function sandboxIdFor(podUid: string): string {
  return createHash('sha256').update(`kubefacade-sandbox:${podUid}`).digest('hex');
}

export class NodeStreamingRuntime implements StreamingRuntime {
  /** `${podUid}/${container}` → the instance of the container's current run. */
  private readonly instances = new Map<string, { containerId: string; instance: ContainerInstance }>();

  constructor(private readonly deps: NodeStreamingDeps) {}

  /** The pod left the node: its containers' files go with it. */
  forgetPod(uid: string): void {
    for (const key of this.instances.keys()) if (key.startsWith(`${uid}/`)) this.instances.delete(key);
  }

  async container(namespace: string, podName: string, name: string): Promise<RuntimeLookup<{ instance: ContainerInstance; attach: AttachTarget }>> {
    const state = this.deps.findPod(namespace, podName);
    if (!state) return { status: 404, message: 'pod does not exist' };
    const runtime = [...state.initContainers, ...state.containers, ...(state.ephemeralContainers ?? [])].find((c) => c.name === name);
    if (!runtime || runtime.state.kind !== 'running' || !runtime.containerId) return { status: 500, message: `container not found ("${name}")` };
    const key = `${state.uid}/${name}`;
    let entry = this.instances.get(key);
    if (!entry || entry.containerId !== runtime.containerId) {
      const pod = await this.deps.readPod(namespace, podName);
      const candidates: V1Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...((pod.spec?.ephemeralContainers ?? []) as V1Container[])];
      const spec = candidates.find((c) => c.name === name);
      if (!spec || pod.metadata?.uid !== state.uid) return { status: 500, message: `container not found ("${name}")` };
      const instance = await ContainerInstance.create({
        pod, container: spec, containerId: runtime.containerId, hostIp: this.deps.hostIp, podIp: state.podIp, nodeAllocatable: this.deps.allocatable, content: this.deps.content,
        serviceEnv: runtime.serviceEnv,
      });
      entry = { containerId: runtime.containerId, instance };
      this.instances.set(key, entry);
    }
    const { instance } = entry;
    const spec = instance.input.container;
    const argv0 = instance.processes[0].args[0] ?? '';
    const logs = this.deps.logs;
    const attach: AttachTarget = {
      interactive: spec.stdin === true && (isShell(argv0) || (!spec.command && imageProfile(spec.image ?? '').defaultCommand.some(isShell))),
      followOutput: (write, signal) => followLog(logs.get(namespace, podName, name, false), write, signal),
      exited: (exitCode) => {
        if (state.ephemeralContainers?.some((c) => c.name === name)) this.deps.ephemeralExited(namespace, podName, name, exitCode);
      },
    };
    return { instance, attach };
  }

  async portForward(namespace: string, podName: string): Promise<RuntimeLookup<PortForwardTarget>> {
    const state = this.deps.findPod(namespace, podName);
    if (!state) return { status: 404, message: 'pod does not exist' };
    const pod = await this.deps.readPod(namespace, podName);
    const ports = new Map<number, PortOwner>();
    for (const container of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const runtime = [...state.initContainers, ...state.containers].find((c) => c.name === container.name);
      if (runtime?.state.kind !== 'running') continue;
      for (const port of container.ports ?? []) {
        if ((port.protocol ?? 'TCP') !== 'TCP') continue;
        ports.set(port.containerPort, {
          namespace, pod: podName, container: container.name, image: container.image ?? '', port: port.containerPort, protocol: port.protocol ?? 'TCP',
        });
      }
    }
    return { sandboxId: sandboxIdFor(state.uid), ports };
  }
}

/** Streams a container's output: what it printed so far, then each new line, until it exits or the client leaves. */
function followLog(log: ContainerLogInstance | undefined, write: (text: string) => void, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (!log) return resolve();
    for (const line of log.lines) write(`${line.text}\n`);
    if (log.finished || signal.aborted) return resolve();
    const onLine = (line: { text: string }): void => write(`${line.text}\n`);
    const done = (): void => {
      log.off('line', onLine);
      log.off('finish', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    log.on('line', onLine);
    log.on('finish', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
