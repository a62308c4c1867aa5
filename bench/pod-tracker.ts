// Follows the benchmark namespace's pods through one watch and records, per pod, when the bench
// first saw it bound to a node and first saw it Running: the client-side view of scheduling and
// pod startup (the SLO's "observed via watch"). Resumes from the last resourceVersion if the
// server ends the stream.

import type { Agent } from 'node:https';
import { BenchClient } from './http-client.ts';
import type { ClientTarget } from './kubeconfig.ts';
import { sleep } from './processes.ts';
import { openWatch, watchAgent, type WatchEvent, type WatchStream } from './watch-client.ts';

interface PodShape {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export class PodTracker {
  readonly scheduledAt = new Map<string, number>();
  readonly runningAt = new Map<string, number>();
  /** Pods seen deleted while being tracked (none expected in a healthy run). */
  deleted = 0;
  private resourceVersion = '';
  private stream: WatchStream | undefined;
  private stopped = false;
  private readonly agent: Agent;
  private loop: Promise<void> | undefined;

  private constructor(private readonly target: ClientTarget, private readonly namespace: string) {
    this.agent = watchAgent(target);
  }

  static async start(target: ClientTarget, namespace: string): Promise<PodTracker> {
    const tracker = new PodTracker(target, namespace);
    const client = new BenchClient(target, 1);
    try {
      const list = await client.json<{ metadata: { resourceVersion: string }; items: PodShape[] }>(
        'GET', `/api/v1/namespaces/${namespace}/pods?limit=1`);
      tracker.resourceVersion = list.metadata.resourceVersion;
    } finally {
      client.close();
    }
    tracker.stream = await tracker.open();
    tracker.loop = tracker.follow();
    return tracker;
  }

  private open(): Promise<WatchStream> {
    return openWatch({
      target: this.target, agent: this.agent,
      path: `/api/v1/namespaces/${this.namespace}/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=14400&resourceVersion=${this.resourceVersion}`,
      onEvent: (event, at) => this.observe(event, at),
    });
  }

  private async follow(): Promise<void> {
    while (!this.stopped && this.stream) {
      await this.stream.ended;
      if (this.stopped) return;
      await sleep(200);
      try {
        this.stream = await this.open();
      } catch {
        // The server may be briefly unavailable; retry until stopped.
      }
    }
  }

  private observe(event: WatchEvent, at: number): void {
    const pod = event.object as PodShape;
    if (pod.metadata?.resourceVersion) this.resourceVersion = pod.metadata.resourceVersion;
    if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
    const name = pod.metadata?.name;
    if (!name) return;
    if (event.type === 'DELETED') {
      this.deleted++;
      return;
    }
    if (pod.spec?.nodeName && !this.scheduledAt.has(name)) this.scheduledAt.set(name, at);
    if (pod.status?.phase === 'Running' && !this.runningAt.has(name)) this.runningAt.set(name, at);
  }

  /** Resolves once `count` tracked pods are Running, or after `timeoutMs` (check runningAt.size). */
  async waitForRunning(count: number, timeoutMs: number, onProgress?: (running: number) => void): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.runningAt.size < count && Date.now() < deadline) {
      onProgress?.(this.runningAt.size);
      await sleep(200);
    }
    onProgress?.(this.runningAt.size);
    return this.runningAt.size >= count;
  }

  async waitForScheduled(count: number, timeoutMs: number, onProgress?: (scheduled: number) => void): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.scheduledAt.size < count && Date.now() < deadline) {
      onProgress?.(this.scheduledAt.size);
      await sleep(200);
    }
    onProgress?.(this.scheduledAt.size);
    return this.scheduledAt.size >= count;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.close();
    await this.loop;
    this.agent.destroy();
  }
}
