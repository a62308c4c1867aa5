// The horizontal pod autoscaler controller (pkg/controller/podautoscaler/horizontal.go, 1.32): every sync period
// (15 s) each HorizontalPodAutoscaler's target scale is read through its scale subresource, a replica count is
// proposed per metric from metrics.k8s.io (replica-calculator.ts), the largest wins, the proposal is stabilized and
// limited (scaling-behavior.ts), and the target is rescaled through the scale subresource. Status (current/desired
// replicas, current metrics, lastScaleTime) and the conditions AbleToScale, ScalingActive and ScalingLimited carry
// upstream's reasons and messages; events SuccessfulRescale ("New size: N; reason: cpu resource utilization
// (percentage of request) above target"), FailedGetScale, FailedRescale, FailedGetResourceMetric,
// FailedComputeMetricsReplicas, SelectorRequired and InvalidSelector are upstream's word for word.
// Pods, Object and External metrics need the custom and external metrics APIs, which kubefacade does not serve:
// they fail as they would upstream without an adapter (ScalingActive False, FailedGet…Metric).

import { ApiStatusError } from '../../clients/json-api-client.ts';
import { type KindInfo, objectPath } from '../framework/api-paths.ts';
import { objectKey, type CachedInformer } from '../framework/cached-informer.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import { workloadObject, type WorkloadObject } from '../framework/object-views.ts';
import { objectReference } from '../framework/pod-control.ts';
import { quantityMilliValue } from '../../scheduler/quantity.ts';
import { ClusterReads, statusMessage, type Scale } from './cluster-reads.ts';
import { DEFAULT_CALCULATOR_OPTIONS, rawResourceReplicas, resourceReplicas, type CalculatorOptions } from './replica-calculator.ts';
import { ScalingHistory, type Behavior } from './scaling-behavior.ts';

export const HORIZONTAL_POD_AUTOSCALERS: KindInfo = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler' };
const COMPONENT = 'horizontal-pod-autoscaler';

export interface HorizontalControllerOptions {
  /** --horizontal-pod-autoscaler-sync-period (15 s). */
  syncPeriodMs: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (5 min). */
  downscaleStabilizationMs: number;
  tolerance: number;
  cpuInitializationPeriodMs: number;
  delayOfInitialReadinessStatusMs: number;
}

export const DEFAULT_HPA_OPTIONS: HorizontalControllerOptions = {
  syncPeriodMs: 15_000, downscaleStabilizationMs: 300_000, ...DEFAULT_CALCULATOR_OPTIONS,
};

type Json = Record<string, unknown>;

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

interface HpaStatus {
  observedGeneration?: number;
  lastScaleTime?: string;
  currentReplicas?: number;
  desiredReplicas?: number;
  currentMetrics?: Json[];
  conditions?: Condition[];
}

/** A proposal from one metric, or the condition it failed with. */
interface MetricOutcome {
  replicas: number;
  name: string;
  status: Json;
}

class MetricError extends Error {
  constructor(message: string, readonly condition: { reason: string; message: string }) {
    super(message);
  }
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** resource.NewMilliQuantity(v, DecimalSI).String(). */
export function milliQuantityText(milli: number): string {
  if (milli % 1000 !== 0) return `${milli}m`;
  let value = milli / 1000;
  if (value === 0) return '0';
  for (const suffix of ['', 'k', 'M', 'G', 'T', 'P']) {
    if (value % 1000 !== 0) return `${value}${suffix}`;
    value /= 1000;
  }
  return `${value}E`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Json : {};
}

export class HorizontalController extends QueueController {
  readonly hpas: CachedInformer<WorkloadObject>;
  private readonly reads: ClusterReads;
  private readonly history: ScalingHistory;

  constructor(ctx: ControllerContext, private readonly options: HorizontalControllerOptions = DEFAULT_HPA_OPTIONS) {
    super('horizontal-pod-autoscaler', ctx);
    this.reads = new ClusterReads(ctx.client);
    this.history = new ScalingHistory(options.downscaleStabilizationMs, ctx.now);
    this.hpas = ctx.informers.informer(`/apis/autoscaling/v2/${HORIZONTAL_POD_AUTOSCALERS.resource}`, workloadObject);
    const enqueue = (hpa: WorkloadObject): void => this.enqueue(objectKey(hpa.metadata.namespace, hpa.metadata.name));
    this.hpas.addHandlers({
      add: enqueue,
      // Status writes are ours; only a spec change needs an early sync (the periodic one comes anyway).
      update: (old, hpa) => { if (old.metadata.generation !== hpa.metadata.generation) enqueue(hpa); },
      delete: (hpa) => this.history.forget(objectKey(hpa.metadata.namespace, hpa.metadata.name)),
    });
  }

  protected async sync(key: string): Promise<void> {
    const hpa = this.hpas.getByKey(key);
    if (!hpa || hpa.metadata.deletionTimestamp) {
      this.history.forget(key);
      return;
    }
    try {
      await this.reconcile(key, structuredClone(hpa));
    } catch (err) {
      // A failed reconcile is reported (events, conditions) and retried on the next period, as upstream.
      if (!(err instanceof ApiStatusError && err.code === 409)) this.ctx.logger.warn(`${this.name}: ${key}: ${statusMessage(err)}`);
    }
    if (this.hpas.getByKey(key)) this.enqueueAfter(key, this.options.syncPeriodMs);
  }

  private event(hpa: WorkloadObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.recorder.event(COMPONENT, objectReference({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' }, hpa.metadata), type, reason, message);
  }

  private setCondition(status: HpaStatus, type: string, conditionStatus: string, reason: string, message: string): void {
    const conditions = status.conditions ?? (status.conditions = []);
    let condition = conditions.find((c) => c.type === type);
    if (!condition) {
      condition = { type, status: '' };
      conditions.push(condition);
    }
    if (condition.status !== conditionStatus) condition.lastTransitionTime = rfc3339(this.ctx.now());
    condition.status = conditionStatus;
    condition.reason = reason;
    condition.message = message;
  }

  private async writeStatus(hpa: WorkloadObject, original: string, status: HpaStatus): Promise<void> {
    if (JSON.stringify(status) === original) return;
    try {
      await this.ctx.client.request('PUT', objectPath(HORIZONTAL_POD_AUTOSCALERS, hpa.metadata.namespace, hpa.metadata.name, 'status'), { ...hpa, status });
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
    }
  }

  private async reconcile(key: string, hpa: WorkloadObject): Promise<void> {
    const spec = asObject(hpa.spec);
    const status = asObject(hpa.status) as HpaStatus;
    const original = JSON.stringify(status);
    const namespace = hpa.metadata.namespace ?? '';
    const ref = asObject(spec.scaleTargetRef);
    const refName = String(ref.name ?? '');
    const reference = `${String(ref.kind ?? '')}/${namespace}/${refName}`;

    let scale: Scale;
    let target;
    try {
      target = await this.reads.scaleTarget(namespace, String(ref.apiVersion ?? ''), String(ref.kind ?? ''));
      scale = await this.reads.getScale(target, refName);
    } catch (err) {
      const message = statusMessage(err);
      this.event(hpa, 'Warning', 'FailedGetScale', message);
      this.setCondition(status, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${message}`);
      await this.writeStatus(hpa, original, status);
      return;
    }
    this.setCondition(status, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const currentReplicas = scale.spec.replicas ?? 0;
    this.history.recordInitial(key, currentReplicas);
    const minReplicas = typeof spec.minReplicas === 'number' ? spec.minReplicas : 1;
    const maxReplicas = typeof spec.maxReplicas === 'number' ? spec.maxReplicas : 0;
    const behavior = spec.behavior !== undefined && spec.behavior !== null ? spec.behavior as Behavior : undefined;

    let desired = 0;
    let rescaleReason = '';
    let rescale = true;
    let metricStatuses: Json[] | undefined;
    if (currentReplicas === 0 && minReplicas !== 0) {
      rescale = false;
      this.setCondition(status, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desired = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desired = minReplicas;
    } else {
      const metrics = Array.isArray(spec.metrics) ? spec.metrics.map(asObject) : [];
      const computed = await this.computeReplicasForMetrics(hpa, status, scale, metrics);
      metricStatuses = computed.statuses;
      if (computed.error && computed.replicas === -1) {
        Object.assign(status, { currentReplicas, currentMetrics: metricStatuses.length ? metricStatuses : undefined });
        this.cleanStatus(status);
        await this.writeStatus(hpa, original, status);
        this.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error);
        return;
      }
      let rescaleMetric = '';
      if (computed.replicas > desired) {
        desired = computed.replicas;
        rescaleMetric = computed.metric;
      }
      if (desired > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desired < currentReplicas) rescaleReason = 'All metrics below target';
      const normalized = behavior
        ? this.history.normalizeWithBehavior(key, behavior, currentReplicas, desired, minReplicas, maxReplicas)
        : this.history.normalize(key, currentReplicas, desired, minReplicas, maxReplicas);
      this.setCondition(status, 'AbleToScale', 'True', normalized.ableToScale.reason, normalized.ableToScale.message);
      this.setCondition(status, 'ScalingLimited', normalized.limited.status, normalized.limited.reason, normalized.limited.message);
      desired = normalized.desired;
      rescale = desired !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.reads.updateScale(target, refName, { ...scale, spec: { ...scale.spec, replicas: desired } });
      } catch (err) {
        const message = statusMessage(err);
        this.event(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${rescaleReason}; error: ${message}`);
        this.setCondition(status, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${message}`);
        Object.assign(status, { currentReplicas, currentMetrics: metricStatuses?.length ? metricStatuses : undefined });
        this.cleanStatus(status);
        await this.writeStatus(hpa, original, status);
        this.ctx.logger.warn(`${this.name}: failed to rescale ${reference}: ${message}`);
        return;
      }
      this.setCondition(status, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      this.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${rescaleReason}`);
      this.history.storeScaleEvent(key, behavior, currentReplicas, desired);
      this.ctx.logger.info(`${this.name}: successfully rescaled ${reference} from ${currentReplicas} to ${desired}: ${rescaleReason}`);
    } else {
      desired = currentReplicas;
    }
    Object.assign(status, {
      currentReplicas, desiredReplicas: desired, currentMetrics: metricStatuses?.length ? metricStatuses : undefined,
      ...(rescale ? { lastScaleTime: rfc3339(this.ctx.now()) } : {}),
    });
    this.cleanStatus(status);
    await this.writeStatus(hpa, original, status);
  }

  /** Drops undefined fields, so an unchanged status compares equal to the stored one. */
  private cleanStatus(status: HpaStatus): void {
    for (const [field, value] of Object.entries(status)) if (value === undefined) delete (status as Json)[field];
  }

  /** computeReplicasForMetrics: the largest proposal of the valid metrics, or -1 and the first error. */
  private async computeReplicasForMetrics(hpa: WorkloadObject, status: HpaStatus, scale: Scale, metrics: Json[]):
  Promise<{ replicas: number; metric: string; statuses: Json[]; error?: string }> {
    const selectorText = scale.status.selector ?? '';
    if (selectorText === '') {
      this.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      this.setCondition(status, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      return { replicas: -1, metric: '', statuses: [], error: 'selector is required' };
    }
    const specReplicas = scale.spec.replicas ?? 0;
    const statuses: Json[] = [];
    let replicas = 0;
    let metric = '';
    let invalid = 0;
    let firstError: MetricError | undefined;
    for (const spec of metrics) {
      try {
        const outcome = await this.computeReplicasForMetric(hpa, spec, specReplicas, selectorText);
        statuses.push(outcome.status);
        if (replicas === 0 || outcome.replicas > replicas) {
          replicas = outcome.replicas;
          metric = outcome.name;
        }
      } catch (err) {
        statuses.push({ type: '' });
        const error = err instanceof MetricError ? err : new MetricError(String(err), { reason: 'FailedGetResourceMetric', message: String(err) });
        firstError ??= error;
        invalid++;
      }
    }
    const usable = statuses.filter((s) => s.type !== '');
    const error = firstError ? `invalid metrics (${invalid} invalid out of ${metrics.length}), first error is: ${firstError.message}` : undefined;
    if (firstError && (invalid >= metrics.length || replicas < specReplicas)) {
      this.setCondition(status, 'ScalingActive', 'False', firstError.condition.reason, firstError.condition.message);
      return { replicas: -1, metric: '', statuses: usable, error };
    }
    this.setCondition(status, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`);
    return { replicas, metric, statuses: usable, error };
  }

  private calculatorOptions(): CalculatorOptions {
    return {
      tolerance: this.options.tolerance, cpuInitializationPeriodMs: this.options.cpuInitializationPeriodMs,
      delayOfInitialReadinessStatusMs: this.options.delayOfInitialReadinessStatusMs, nowMs: this.ctx.now(),
    };
  }

  private unable(hpa: WorkloadObject, reason: string, error: string): MetricError {
    this.event(hpa, 'Warning', reason, error);
    return new MetricError(error, { reason, message: `the HPA was unable to compute the replica count: ${error}` });
  }

  private async computeReplicasForMetric(hpa: WorkloadObject, spec: Json, specReplicas: number, selector: string): Promise<MetricOutcome> {
    const type = String(spec.type ?? '');
    if (type === 'Resource' || type === 'ContainerResource') {
      const sourceField = type === 'Resource' ? 'resource' : 'containerResource';
      const source = asObject(spec[sourceField]);
      const resource = String(source.name ?? '');
      const container = type === 'ContainerResource' ? String(source.container ?? '') : '';
      const target = asObject(source.target);
      const namespace = hpa.metadata.namespace ?? '';
      const reason = type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
      const prefix = type === 'Resource' ? `failed to get ${resource} resource metric value` : `failed to get ${resource} container metric value`;
      const fail = (inner: string): MetricError => this.unable(hpa, reason, `${prefix}: failed to get ${resource} ${target.averageValue !== undefined ? 'usage' : 'utilization'}: ${inner}`);
      if (target.averageValue === undefined && typeof target.averageUtilization !== 'number') {
        throw this.unable(hpa, reason, `${prefix}: invalid resource metric source: neither an average utilization target nor an average value (usage) target was set`);
      }
      let metrics;
      try {
        metrics = (await this.reads.podMetrics(namespace, selector, resource, container)).metrics;
      } catch (err) {
        throw fail(`unable to get metrics for resource ${resource}: ${errorMessage(err)}`);
      }
      try {
        const pods = await this.reads.pods(namespace, selector);
        const named = container ? { name: resource, container } : { name: resource };
        if (target.averageValue !== undefined) {
          const proposal = rawResourceReplicas(specReplicas, quantityMilliValue(String(target.averageValue)), resource, pods, metrics, this.calculatorOptions());
          return { replicas: proposal.replicas, name: `${resource} resource`, status: { type, [sourceField]: { ...named, current: { averageValue: milliQuantityText(proposal.usage) } } } };
        }
        const proposal = resourceReplicas(specReplicas, Number(target.averageUtilization), resource, pods, metrics, container, this.calculatorOptions());
        return {
          replicas: proposal.replicas,
          name: type === 'Resource' ? `${resource} resource utilization (percentage of request)` : `${resource} container resource utilization (percentage of request)`,
          status: { type, [sourceField]: { ...named, current: { averageUtilization: proposal.utilization, averageValue: milliQuantityText(proposal.rawAverage) } } },
        };
      } catch (err) {
        throw fail(errorMessage(err));
      }
    }
    const failures: Record<string, [string, string, string]> = {
      Pods: ['FailedGetPodsMetric', 'pods', 'pods.custom.metrics.k8s.io'],
      Object: ['FailedGetObjectMetric', 'object', 'custom.metrics.k8s.io'],
      External: ['FailedGetExternalMetric', 'external', 'external.metrics.k8s.io'],
    };
    const failure = failures[type];
    if (failure) {
      const metricName = String(asObject(asObject(spec[failure[1]]).metric).name ?? '');
      throw this.unable(hpa, failure[0], `failed to get ${failure[1]} metric value: unable to get metric ${metricName}: the server could not find the requested resource (${failure[2]} is not served)`);
    }
    throw this.unable(hpa, 'InvalidMetricSourceType', `unknown metric source type "${type}"`);
  }
}

