// The prober workers of one container instance (pkg/kubelet/prober/worker.go): each probe first runs
// initialDelaySeconds after the container started, then every periodSeconds; readiness and liveness wait for
// the startup probe. Results come from kubelet/probes.ts (simulated); the runner updates the instance's
// readiness and started flags, emits Unhealthy events, and asks for a kill when liveness or startup gives up.

import { Aborted, sleep } from './abortable-sleep.ts';
import type { EventText } from './event-text.ts';
import type { ContainerRuntimeState } from './pod-runtime-state.ts';
import { probeFails, probeLabel, type ContainerProbes, type ProbeSpec } from './probes.ts';

export interface ProbeRunnerOptions {
  probes: ContainerProbes;
  container: string;
  runtime: ContainerRuntimeState;
  /** The pod's lifecycle: probing stops with it. */
  podSignal: AbortSignal;
  /** The current kubefacade.io/fail-probes annotation. */
  failProbes(): string | undefined;
  podIp(): string;
  emit(text: EventText): void;
  requestSync(): void;
  kill(exitCode: number): void;
  warn(message: string): void;
}

/** Starts the instance's probes; abort the returned controller when the instance exits. */
export function runContainerProbes(options: ProbeRunnerOptions): AbortController | undefined {
  const { readiness, liveness, startup } = options.probes;
  if (!readiness && !liveness && !startup) return undefined;
  const probing = new AbortController();
  const stop = () => probing.abort();
  options.podSignal.addEventListener('abort', stop, { once: true });
  probing.signal.addEventListener('abort', () => options.podSignal.removeEventListener('abort', stop), { once: true });
  const startedAtMs = Date.now();
  const { runtime } = options;

  const run = async (probe: ProbeSpec): Promise<void> => {
    const signal = probing.signal;
    await sleep(startedAtMs + probe.initialDelayMs - Date.now(), signal);
    let successes = 0;
    let failures = 0;
    for (;;) {
      if (probe.kind !== 'startup' && runtime.probeStarted === false) {
        await sleep(probe.periodMs, signal);
        continue;
      }
      if (probeFails(options.failProbes(), options.container, probe.kind)) {
        successes = 0;
        failures++;
        options.emit({ type: 'Warning', reason: 'Unhealthy', message: `${probeLabel(probe.kind)} probe failed: ${probe.failureOutput(options.podIp())}` });
        if (failures >= probe.failureThreshold) {
          if (probe.kind === 'readiness') {
            if (runtime.probeReady !== false) {
              runtime.probeReady = false;
              options.requestSync();
            }
          } else {
            options.emit({ type: 'Normal', reason: 'Killing', message: `Container ${options.container} failed ${probe.kind} probe, will be restarted` });
            options.kill(137);
            return;
          }
        }
      } else {
        failures = 0;
        successes++;
        if (successes >= probe.successThreshold) {
          if (probe.kind === 'readiness' && runtime.probeReady !== true) {
            runtime.probeReady = true;
            options.requestSync();
          }
          if (probe.kind === 'startup') {
            runtime.probeStarted = true;
            options.requestSync();
            return;
          }
        }
      }
      await sleep(probe.periodMs, signal);
    }
  };
  for (const probe of [startup, readiness, liveness]) {
    if (!probe) continue;
    run(probe).catch((error: unknown) => {
      if (!(error instanceof Aborted)) options.warn(String(error));
    });
  }
  return probing;
}
