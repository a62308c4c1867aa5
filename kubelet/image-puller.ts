// One node's image puller. Pulls are serialised per node, as the kubelet does by default (serializeImagePulls: true),
// so a pull queued behind another reports the wait in "(… including waiting)".
import { Aborted, sleep } from './abortable-sleep.ts';
import { NodeImageStore, resolvePullDelayMs, type ImagePullDelay } from './images.ts';

export interface PullResult {
  pullMs: number;
  totalMs: number;
}

export class ImagePuller {
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly images: NodeImageStore, private readonly delay: ImagePullDelay | undefined) {}

  pull(image: string, signal?: AbortSignal): Promise<PullResult> {
    const queuedAt = Date.now();
    const pullMs = resolvePullDelayMs(this.delay, image);
    const result = this.queue.then(async () => {
      // A zero delay takes no timer turn, so an instant pull does not split a pod's start over two status writes.
      if (pullMs > 0) await sleep(pullMs, signal);
      else if (signal?.aborted) throw new Aborted();
      this.images.add(image);
      return { pullMs, totalMs: Date.now() - queuedAt };
    });
    // The queue only orders pulls; one pod's aborted pull must not fail the next pod's.
    this.queue = result.then(() => undefined, () => undefined);
    return result;
  }
}
