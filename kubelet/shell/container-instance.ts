// One simulated container instance as a process running in it sees it: its filesystem (image files, the files the
// kubelet writes, mounted volumes), its environment and its process table. Created on the first exec or attach into
// the instance and kept until the container restarts (a new container ID) or the pod goes, so files written by
// `kubectl cp` or `echo > file` stay visible to later commands, as in a container's writable layer.
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { volumeContent, type PodContentReader } from './config-content.ts';
import { containerEnvironment, fieldPathValue } from './environment.ts';
import { SimulatedFilesystem, resolvePath } from './filesystem.ts';
import { imageProfile } from './image-profiles.ts';

export interface SimulatedProcess {
  pid: number;
  user: string;
  args: string[];
}

export interface ContainerInstanceInput {
  pod: V1Pod;
  container: V1Container;
  containerId: string;
  hostIp: string;
  podIp?: string;
  nodeAllocatable: { cpu: string; memory: string };
  /** The service variables the kubelet gave this container when it started. */
  serviceEnv?: ReadonlyMap<string, string>;
  /** The ConfigMaps, Secrets and tokens the pod references (env and volumes); without it they stay empty. */
  content?: PodContentReader;
}

export class ContainerInstance {
  readonly fs = new SimulatedFilesystem();
  readonly processes: SimulatedProcess[];
  private nextPid = 7;

  private constructor(readonly input: ContainerInstanceInput, readonly baseEnv: Map<string, string>) {
    const { container } = input;
    const argv = [...(container.command ?? imageProfile(container.image ?? '').defaultCommand), ...(container.args ?? [])];
    this.processes = [{ pid: 1, user: 'root', args: argv }];
  }

  static async create(input: ContainerInstanceInput): Promise<ContainerInstance> {
    const env = await containerEnvironment({ ...input, tty: false });
    const instance = new ContainerInstance(input, env);
    await instance.populate();
    return instance;
  }

  get hostname(): string {
    return this.input.pod.spec?.hostname ?? this.input.pod.metadata?.name ?? '';
  }

  /** Environment for one process (TERM=xterm appears with a TTY, as runtimes set it). */
  environment(tty: boolean): Map<string, string> {
    if (!tty) return new Map(this.baseEnv);
    const env = new Map<string, string>();
    for (const [key, value] of this.baseEnv) {
      env.set(key, value);
      if (key === 'HOSTNAME' && !this.baseEnv.has('TERM')) env.set('TERM', 'xterm');
    }
    return env;
  }

  /** A process appears in `ps` while it runs. */
  spawn(args: string[]): SimulatedProcess {
    const process = { pid: this.nextPid++, user: 'root', args };
    this.processes.push(process);
    return process;
  }

  exit(process: SimulatedProcess): void {
    const index = this.processes.indexOf(process);
    if (index > 0) this.processes.splice(index, 1);
  }

  private async populate(): Promise<void> {
    const { fs } = this;
    const { pod, container } = this.input;
    for (const dir of ['/bin', '/dev', '/etc', '/home', '/proc', '/root', '/sys', '/tmp', '/usr/bin', '/usr/local/bin', '/var/log', '/var/run']) fs.mkdirp(dir);
    const system = { system: true, parents: true };
    fs.writeFile('/etc/hostname', Buffer.from(`${this.hostname}\n`), system);
    fs.writeFile('/etc/passwd', Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'), system);
    fs.writeFile('/etc/group', Buffer.from('root:x:0:\nnobody:x:65534:\n'), system);
    // The kubelet-managed files every pod gets (pkg/kubelet/kubelet_pods.go managedHostsFileContent).
    const podIp = this.input.podIp;
    fs.writeFile('/etc/hosts', Buffer.from(
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
      + 'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n'
      + (podIp ? `${podIp}\t${this.hostname}\n` : ''),
    ), system);
    const namespace = pod.metadata?.namespace ?? 'default';
    fs.writeFile('/etc/resolv.conf', Buffer.from(
      `search ${namespace}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n`,
    ), system);
    fs.writeFile(container.terminationMessagePath ?? '/dev/termination-log', Buffer.alloc(0), system);
    for (const [path, content] of Object.entries(imageProfile(container.image ?? '').files)) fs.writeFile(path, Buffer.from(content), system);
    if (container.workingDir) fs.mkdirp(resolvePath('/', container.workingDir));
    for (const mount of container.volumeMounts ?? []) {
      const volume = (pod.spec?.volumes ?? []).find((v) => v.name === mount.name);
      const at = resolvePath('/', mount.mountPath);
      fs.mkdirp(at);
      if (!volume) continue;
      const files = await this.volumeFiles(volume);
      const prefix = mount.subPath ? `${mount.subPath.replace(/\/+$/, '')}/` : '';
      for (const [relative, content] of Object.entries(files)) {
        if (prefix && !relative.startsWith(prefix)) continue;
        fs.writeFile(resolvePath(at, relative.slice(prefix.length)), Buffer.isBuffer(content) ? content : Buffer.from(content), system);
      }
      const readOnlyKind = Boolean(volume.secret || volume.configMap || volume.downwardAPI || volume.projected);
      if (mount.readOnly || readOnlyKind) fs.markReadOnly(at);
    }
  }

  /** emptyDir and hostPath start empty; downwardAPI items are written here; configMap, secret and projected sources are read. */
  private async volumeFiles(volume: V1Volume): Promise<Record<string, string | Buffer>> {
    const { pod } = this.input;
    const files: Record<string, string | Buffer> = {};
    const downward = volume.downwardAPI?.items ?? volume.projected?.sources?.flatMap((s) => s.downwardAPI?.items ?? []) ?? [];
    for (const item of downward) {
      if (!item.fieldRef) continue;
      const value = fieldPathValue(pod, item.fieldRef.fieldPath, this.input.hostIp, this.input.podIp);
      if (value !== undefined) files[item.path] = value;
    }
    if (this.input.content && (volume.configMap || volume.secret || volume.projected)) {
      Object.assign(files, await volumeContent(this.input.content, pod, volume));
    }
    return files;
  }
}
