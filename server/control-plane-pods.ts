// The control plane `kubefacade up` runs in its own process, made visible as kubeadm shows it: a static pod per
// component on the first node, mirrored into kube-system (kube-apiserver-<node>, kube-scheduler-<node>,
// kube-controller-manager-<node>, and the store: etcd-<node>, or leveldb-<node> for the default LevelDB store), each
// Running since the process started, whose `kubectl logs` are the component's own klog lines at its --v.

import { ComponentLog, componentLogger, type LeveledLogger } from '../clients/component-log.ts';
import type { StaticPodSpec } from '../kubelet/index.ts';
import { KUBERNETES_VERSION } from './version.ts';

export interface ControlPlaneLogging {
  apiServer: LeveledLogger;
  scheduler: LeveledLogger;
  controllerManager: LeveledLogger;
  store: LeveledLogger;
  staticPods: StaticPodSpec[];
}

/** The components' logs and loggers; `storeKind` names the store's pod. */
export function controlPlaneLogging(options: { verbosity: number; quiet: boolean; storeKind: 'etcd' | 'leveldb' | 'memory' }): ControlPlaneLogging {
  const startTimeMs = Math.round(Date.now() - process.uptime() * 1000);
  const image = (name: string): string => `registry.k8s.io/${name}:v${KUBERNETES_VERSION.major}.${KUBERNETES_VERSION.minor}.${KUBERNETES_VERSION.patch}`;
  const command = ['kubefacade', ...process.argv.slice(2)];
  const make = (name: string, podImage: string): { log: ComponentLog; logger: LeveledLogger; pod: StaticPodSpec } => {
    const log = new ComponentLog(name);
    return {
      log,
      logger: componentLogger(log, { verbosity: options.verbosity, quiet: options.quiet }),
      pod: { name, image: podImage, command: command.length > 1 ? command : ['kubefacade', 'up'], startTimeMs, log },
    };
  };
  const apiServer = make('kube-apiserver', image('kube-apiserver'));
  const scheduler = make('kube-scheduler', image('kube-scheduler'));
  const controllerManager = make('kube-controller-manager', image('kube-controller-manager'));
  const storeName = options.storeKind === 'etcd' ? 'etcd' : options.storeKind === 'leveldb' ? 'leveldb' : 'memory-store';
  const store = make(storeName, options.storeKind === 'etcd' ? 'registry.k8s.io/etcd:3.5.16-0' : 'kubefacade/store');
  return {
    apiServer: apiServer.logger, scheduler: scheduler.logger, controllerManager: controllerManager.logger, store: store.logger,
    staticPods: [apiServer.pod, scheduler.pod, controllerManager.pod, store.pod],
  };
}
