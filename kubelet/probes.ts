// Simulated container probes (pkg/kubelet/prober): readiness, liveness and startup probes run on their
// timing fields — first after initialDelaySeconds, then every periodSeconds; a result counts once
// successThreshold successes or failureThreshold failures follow each other. Nothing is really probed:
// a probe succeeds unless the pod's annotation says it fails, which can be changed while the pod runs:
//
//   kubefacade.io/fail-probes: "readiness"             every container's readiness probe fails
//   kubefacade.io/fail-probes: "app=liveness+startup"  per container, probe kinds joined with '+'
//
// Failures give the kubelet's `Unhealthy` events (`Readiness probe failed: HTTP probe failed with
// statuscode: 503`, ...); a liveness or startup probe past its failureThreshold has the container killed
// and restarted (`Container app failed liveness probe, will be restarted`).

import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { annotationValueFor } from './container-behaviour.ts';

export const FAIL_PROBES_ANNOTATION = 'kubefacade.io/fail-probes';

export type ProbeKind = 'readiness' | 'liveness' | 'startup';

export interface ProbeSpec {
  kind: ProbeKind;
  initialDelayMs: number;
  periodMs: number;
  successThreshold: number;
  failureThreshold: number;
  /** What a failure says after `<Kind> probe failed: `, given the pod IP. */
  failureOutput(podIp: string): string;
}

function spec(kind: ProbeKind, probe: V1Probe | undefined): ProbeSpec | undefined {
  if (!probe) return undefined;
  const port = probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
  const failureOutput = (podIp: string): string => {
    if (probe.httpGet) return 'HTTP probe failed with statuscode: 503';
    if (probe.tcpSocket) return `dial tcp ${podIp}:${String(port)}: connect: connection refused`;
    if (probe.grpc) return `timeout: failed to connect service "${podIp}:${String(port)}" within 1s: context deadline exceeded`;
    return '';
  };
  return {
    kind,
    initialDelayMs: Math.max(0, probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, probe.periodSeconds ?? 10) * 1000,
    // Liveness and startup probes must have successThreshold 1 (validation); readiness may ask for more.
    successThreshold: Math.max(1, probe.successThreshold ?? 1),
    failureThreshold: Math.max(1, probe.failureThreshold ?? 3),
    failureOutput,
  };
}

export interface ContainerProbes {
  readiness?: ProbeSpec;
  liveness?: ProbeSpec;
  startup?: ProbeSpec;
}

export function containerProbes(container: V1Container): ContainerProbes {
  return {
    readiness: spec('readiness', container.readinessProbe),
    liveness: spec('liveness', container.livenessProbe),
    startup: spec('startup', container.startupProbe),
  };
}

/** Whether the annotation makes this container's probe of this kind fail. */
export function probeFails(annotation: string | undefined, containerName: string, kind: ProbeKind): boolean {
  const value = annotationValueFor(annotation, containerName);
  if (value === undefined) return false;
  return value.split('+').map((part) => part.trim()).includes(kind);
}

export function probeLabel(kind: ProbeKind): string {
  return kind === 'readiness' ? 'Readiness' : kind === 'liveness' ? 'Liveness' : 'Startup';
}
