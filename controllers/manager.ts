// The controller manager: the workload controllers of kube-controller-manager in one API client
// process, sharing one set of informers (pods cached trimmed), one event recorder and the
// system:kube-controller-manager identity, plus the node lifecycle and taint eviction controllers. `kubefacade
// controllers` runs it alone; `kubefacade up` runs it beside the API server. Leader election (on
// the kube-system/kube-controller-manager Lease) wraps the whole manager, as upstream's does.

import { JsonApiClient } from '../clients/json-api-client.ts';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import type { RunnableController, ControllerContext } from './framework/controller.ts';
import { ObjectEventRecorder, type ControllerLogger } from './framework/event-recorder.ts';
import { InformerFactory } from './framework/informer-factory.ts';
import { GarbageCollector } from './garbage-collector/garbage-collector.ts';
import { CronJobController } from './cronjob/cronjob-controller.ts';
import { DisruptionController } from './disruption/disruption-controller.ts';
import { StatefulSetController } from './statefulset/statefulset-controller.ts';
import { DaemonSetController } from './daemonset/daemonset-controller.ts';
import { JobController } from './job/job-controller.ts';
import { DeploymentController } from './deployment/deployment-controller.ts';
import { runNodeLifecycleController, type RunningController } from './node-lifecycle.ts';
import { DEFAULT_HPA_OPTIONS, HorizontalController, type HorizontalControllerOptions } from './podautoscaler/horizontal-controller.ts';
import { runCsrSigningController } from './csr-signing.ts';
import { runPersistentVolumeBinder } from './persistent-volume-binder.ts';
import { runResourceQuotaController } from './resource-quota.ts';
import { runServiceAccountController } from './service-account.ts';
import { runServiceEndpointControllers } from './service-endpoints.ts';
import { TaintEvictionController } from './taint-eviction/taint-eviction-controller.ts';
import { ValidatingAdmissionPolicyStatusController } from './validating-admission-policy-status.ts';
import { REPLICA_SET_FLAVOR, REPLICATION_CONTROLLER_FLAVOR, ReplicaSetController } from './replicaset/replicaset-controller.ts';

/**
 * The controllers by their kube-controller-manager names (--controllers). `serviceaccount` also publishes each
 * namespace's kube-root-ca.crt (upstream's root-ca-certificate-publisher).
 */
export const CONTROLLER_NAMES = [
  'deployment', 'replicaset', 'replicationcontroller', 'statefulset', 'daemonset', 'job', 'cronjob', 'disruption', 'garbagecollector', 'nodelifecycle',
  'horizontalpodautoscaling', 'serviceaccount', 'endpoint', 'endpointslice', 'endpointslicemirroring', 'resourcequota',
  'csrsigning', 'persistentvolume-binder', 'taint-eviction-controller', 'validatingadmissionpolicy-status-controller',
] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

type Factory = (ctx: ControllerContext, options: ControllerManagerOptions) => RunnableController;

const FACTORIES: Partial<Record<ControllerName, Factory>> = {
  deployment: (ctx) => new DeploymentController(ctx),
  replicaset: (ctx) => new ReplicaSetController(ctx, REPLICA_SET_FLAVOR),
  replicationcontroller: (ctx) => new ReplicaSetController(ctx, REPLICATION_CONTROLLER_FLAVOR),
  statefulset: (ctx) => new StatefulSetController(ctx),
  daemonset: (ctx) => new DaemonSetController(ctx),
  job: (ctx) => new JobController(ctx),
  cronjob: (ctx) => new CronJobController(ctx),
  disruption: (ctx) => new DisruptionController(ctx),
  garbagecollector: (ctx) => new GarbageCollector(ctx),
  'taint-eviction-controller': (ctx) => new TaintEvictionController(ctx),
  'validatingadmissionpolicy-status-controller': (ctx) => new ValidatingAdmissionPolicyStatusController(ctx),
  horizontalpodautoscaling: (ctx, options) => new HorizontalController(ctx, { ...DEFAULT_HPA_OPTIONS, ...options.horizontalPodAutoscaler }),
};

/**
 * kube-controller-manager's --controllers: `*` for all, `name` to enable, `-name` to disable
 * (`*,-garbagecollector`). Throws for an unknown name.
 */
export function selectControllers(list: string): ControllerName[] {
  const items = list.split(',').map((item) => item.trim()).filter(Boolean);
  const known = new Set<string>(CONTROLLER_NAMES);
  for (const item of items) {
    const name = item.replace(/^-/, '');
    if (name !== '*' && !known.has(name)) throw new Error(`"${name}" is not in the list of known controllers: ${CONTROLLER_NAMES.join(', ')}`);
  }
  const all = items.includes('*');
  return CONTROLLER_NAMES.filter((name) => !items.includes(`-${name}`) && (all || items.includes(name)));
}

export interface ControllerManagerOptions {
  kubeconfigPath: string;
  /** Which controllers run (default: all). */
  controllers?: readonly ControllerName[];
  /** Workers per controller (kube-controller-manager's --concurrent-*-syncs, 5 by default). */
  workers?: number;
  /** Node lifecycle controller settings. */
  nodeMonitorGracePeriodSeconds?: number;
  nodeMonitorPeriodSeconds?: number;
  logger?: ControllerLogger;
  /** The horizontal pod autoscaler's --horizontal-pod-autoscaler-* settings (defaults: upstream's). */
  horizontalPodAutoscaler?: Partial<HorizontalControllerOptions>;
  /** A controlled clock (tests): milliseconds since the epoch. */
  now?: () => number;
  /** The CA bundle the serviceaccount controller publishes as kube-root-ca.crt; default: the kubeconfig's. */
  rootCaCertPem?: string;
  /**
   * --cluster-signing-cert-file / --cluster-signing-key-file contents: the CA the csrsigning controller signs
   * kubernetes.io/kube-apiserver-client certificates with. Without them csrsigning is skipped, as upstream skips it.
   */
  clusterSigning?: { certPem: string; keyPem: string };
}

export interface RunningControllerManager extends RunningController {
  readonly context: ControllerContext;
}

const DEFAULT_LOGGER: ControllerLogger = {
  info: (message) => console.log(`kube-controller-manager: ${message}`),
  warn: (message) => console.warn(`kube-controller-manager: ${message}`),
};

export async function runControllerManager(options: ControllerManagerOptions): Promise<RunningControllerManager> {
  const logger = options.logger ?? DEFAULT_LOGGER;
  const enabled = new Set(options.controllers ?? CONTROLLER_NAMES);
  const client = new JsonApiClient(loadKubeConfig(options.kubeconfigPath), componentUserAgent('kube-controller-manager'));
  const informerLogger = {
    info: (message: string, fields?: Record<string, unknown>) => logger.info(`${message} ${fields ? JSON.stringify(fields) : ''}`),
    error: (message: string, fields?: Record<string, unknown>) => logger.warn(`${message} ${fields ? JSON.stringify(fields) : ''}`),
  };
  const informers = new InformerFactory(client, informerLogger);
  const context: ControllerContext = {
    client, informers, recorder: new ObjectEventRecorder(client, logger), logger, now: options.now ?? Date.now,
  };
  const controllers: RunnableController[] = [];
  for (const name of CONTROLLER_NAMES) {
    const factory = FACTORIES[name];
    if (factory && enabled.has(name)) controllers.push(factory(context, options));
  }
  for (const controller of controllers) await controller.prepare?.();
  await informers.start();
  for (const controller of controllers) controller.run(options.workers ?? 5);
  const nodeLifecycle = enabled.has('nodelifecycle')
    ? await runNodeLifecycleController({
      kubeconfigPath: options.kubeconfigPath, gracePeriodSeconds: options.nodeMonitorGracePeriodSeconds,
      monitorPeriodSeconds: options.nodeMonitorPeriodSeconds, logger,
    })
    : undefined;
  // The controllers that keep their own clients and informers (they came before the shared factory).
  const standalone: RunningController[] = [];
  const stopStandalone = async (): Promise<void> => {
    for (const running of standalone.reverse()) await running.stop();
  };
  try {
    if (enabled.has('serviceaccount')) {
      standalone.push(await runServiceAccountController({ kubeconfigPath: options.kubeconfigPath, caCertPem: options.rootCaCertPem, logger }));
    }
    if (enabled.has('endpoint') || enabled.has('endpointslice') || enabled.has('endpointslicemirroring')) {
      standalone.push(await runServiceEndpointControllers({
        kubeconfigPath: options.kubeconfigPath, endpoints: enabled.has('endpoint'), slices: enabled.has('endpointslice'), mirroring: enabled.has('endpointslicemirroring'), logger,
      }));
    }
    if (enabled.has('resourcequota')) standalone.push(await runResourceQuotaController({ kubeconfigPath: options.kubeconfigPath, logger }));
    if (enabled.has('csrsigning')) {
      if (options.clusterSigning) {
        standalone.push(await runCsrSigningController({
          kubeconfigPath: options.kubeconfigPath, caCertPem: options.clusterSigning.certPem, caKeyPem: options.clusterSigning.keyPem, logger,
        }));
      } else {
        logger.info('Skipping CSR signer controller because no csr cert/key was specified');
      }
    }
    if (enabled.has('persistentvolume-binder')) standalone.push(await runPersistentVolumeBinder({ kubeconfigPath: options.kubeconfigPath, logger }));
  } catch (err) {
    await stopStandalone();
    await nodeLifecycle?.stop();
    await Promise.all(controllers.map((controller) => controller.stop()));
    await informers.stop();
    client.close();
    throw err;
  }
  return {
    context,
    async stop() {
      await stopStandalone();
      await nodeLifecycle?.stop();
      await Promise.all(controllers.map((controller) => controller.stop()));
      await informers.stop();
      await context.recorder.flushed();
      client.close();
    },
  };
}
