// Pod startup figures from a create load and a pod tracker: per pod, client send time of the
// create → first watch event showing it bound (scheduling) and → first showing phase Running
// (startup; measured at the client, not from the second-precision creationTimestamp).

import type { LoadResult } from './load.ts';
import type { PodTracker } from './pod-tracker.ts';
import type { JsonObject } from './report.ts';
import { ratePerSecond, summarizeLatencies } from './stats.ts';

export function startupFigures(load: LoadResult, tracker: PodTracker, namePrefix: string, firstIndex: number): JsonObject {
  const startup: number[] = [];
  const scheduling: number[] = [];
  const boundTimes: number[] = [];
  let lastRunning = Number.NaN;
  let firstSent = Number.NaN;
  for (let n = 0; n < load.sentAtMs.length; n++) {
    const sent = load.sentAtMs[n];
    if (Number.isNaN(sent)) continue;
    if (Number.isNaN(firstSent) || sent < firstSent) firstSent = sent;
    const name = `${namePrefix}${firstIndex + n}`;
    const running = tracker.runningAt.get(name);
    const bound = tracker.scheduledAt.get(name);
    if (running !== undefined) {
      startup.push(running - sent);
      if (Number.isNaN(lastRunning) || running > lastRunning) lastRunning = running;
    }
    if (bound !== undefined) {
      scheduling.push(bound - sent);
      boundTimes.push(bound);
    }
  }
  boundTimes.sort((a, b) => a - b);
  const createSpan = load.finishedAtMs - load.startedAtMs;
  return {
    pods: load.sentAtMs.length,
    created: load.succeeded,
    running: startup.length,
    createsPerSecond: ratePerSecond(load.succeeded, createSpan),
    // First create sent → last pod seen Running.
    endToEndPodsPerSecond: ratePerSecond(startup.length, lastRunning - firstSent),
    secondsToLastRunning: Math.round(lastRunning - firstSent) / 1000,
    schedulerPodsPerSecond: ratePerSecond(Math.max(0, boundTimes.length - 1), boundTimes[boundTimes.length - 1] - boundTimes[0]),
    startupLatency: { ...summarizeLatencies(startup) },
    schedulingLatency: { ...summarizeLatencies(scheduling) },
    createLatency: { ...summarizeLatencies(load.latenciesMs.filter((value) => !Number.isNaN(value))) },
    clientEventLoopUtilization: load.clientEventLoopUtilization,
    ...(load.errors.length ? { firstErrors: load.errors } : {}),
  };
}
