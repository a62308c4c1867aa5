// Pod spec updates reach the simulated kubelet as they reach a real one: `kubectl set image`
// restarts that container with the new image (Killing "definition changed", Pulling/Pulled,
// Created, Started, restartCount + 1, the new imageID), and activeDeadlineSeconds set on a running
// pod fails it with DeadlineExceeded.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type RunningCluster } from '../server/up.ts';
import { Kubectl } from './helpers/kubectl.ts';

interface PodJson {
  spec: { containers: { name: string; image: string }[] };
  status: { phase: string; reason?: string; message?: string; containerStatuses?: { name: string; image: string; imageID: string; restartCount: number; state: Record<string, unknown>; lastState: Record<string, { exitCode?: number }> }[] };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('pod spec updates reach the kubelet', () => {
  let dir: string;
  let cluster: RunningCluster;
  let kubectl: Kubectl;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-spec-updates-'));
    cluster = await startCluster({
      dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], nodes: 1, nodeCpu: '4', nodeMemory: '8Gi', nodePods: 110,
      imagePullDelayMs: 50, kubeletPort: 0, nodeMonitorGracePeriodSeconds: 40, quiet: true,
    });
    kubectl = await Kubectl.create(cluster.apiServer.adminKubeconfigPath);
  });
  after(async () => {
    await kubectl?.dispose();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const pod = async (name: string): Promise<PodJson> => JSON.parse(await kubectl.ok(['get', 'pod', name, '-o', 'json'])) as PodJson;

  test('kubectl set image restarts the container with the new image', async () => {
    await kubectl.ok(['run', 'web', '--image=nginx:1.27']);
    const before = await until(async () => {
      const p = await pod('web');
      return p.status.containerStatuses?.[0]?.state.running ? p : undefined;
    }, 'web running');
    const oldImageId = before.status.containerStatuses![0].imageID;
    assert.match(await kubectl.ok(['set', 'image', 'pod/web', 'web=nginx:1.28']), /pod\/web image updated/);
    const after = await until(async () => {
      const p = await pod('web');
      const status = p.status.containerStatuses?.[0];
      return status?.restartCount === 1 && status.state.running && status.image === 'docker.io/library/nginx:1.28' ? p : undefined;
    }, 'web restarted on nginx:1.28');
    const status = after.status.containerStatuses![0];
    assert.notEqual(status.imageID, oldImageId);
    assert.match(status.imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    assert.equal(status.lastState.terminated.exitCode, 0);
    assert.equal(after.status.phase, 'Running');
    const events = JSON.parse(await kubectl.ok(['get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'json'])) as { items: { reason: string; message: string; count?: number }[] };
    const messages = events.items.map((e) => `${e.reason}: ${e.message}`);
    const killing = messages.indexOf('Killing: Container web definition changed, will be restarted');
    assert.ok(killing >= 0, messages.join('\n'));
    const afterKilling = messages.slice(killing + 1);
    assert.ok(afterKilling.some((m) => m === 'Pulling: Pulling image "nginx:1.28"'), messages.join('\n'));
    assert.ok(afterKilling.some((m) => m.startsWith('Pulled: Successfully pulled image "nginx:1.28"')), messages.join('\n'));
    // The second Created/Started repeat the first ones' text: the event recorder counts them on one event.
    const occurrences = (reason: string, message: string) => events.items.filter((e) => e.reason === reason && e.message === message).reduce((n, e) => n + (e.count ?? 1), 0);
    assert.equal(occurrences('Created', 'Created container: web'), 2, messages.join('\n'));
    assert.equal(occurrences('Started', 'Started container web'), 2, messages.join('\n'));
  });

  test('activeDeadlineSeconds on a running pod fails it with DeadlineExceeded', async () => {
    await kubectl.ok(['run', 'deadline', '--image=nginx:1.27']);
    await until(async () => ((await pod('deadline')).status.phase === 'Running' ? true : undefined), 'deadline running');
    await kubectl.ok(['patch', 'pod', 'deadline', '-p', '{"spec":{"activeDeadlineSeconds":1}}']);
    const failed = await until(async () => {
      const p = await pod('deadline');
      return p.status.phase === 'Failed' ? p : undefined;
    }, 'deadline failed');
    assert.equal(failed.status.reason, 'DeadlineExceeded');
    assert.equal(failed.status.message, 'Pod was active on the node longer than the specified deadline');
    assert.ok(failed.status.containerStatuses![0].state.terminated);
    const events = await kubectl.ok(['get', 'events', '--field-selector', 'involvedObject.name=deadline,reason=DeadlineExceeded', '-o', 'name']);
    assert.ok(events.trim().length > 0, 'a DeadlineExceeded event');
  });
});
