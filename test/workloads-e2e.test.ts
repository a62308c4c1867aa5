// Workloads end to end: `kubefacade up` (API server, scheduler, simulated nodes, controller manager)
// driven only by the real kubectl, as a user would: Deployments rolling out and back, scaling,
// cascading deletion in each mode, and a multi-document application manifest.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kubectl, parseColumns } from './helpers/kubectl.ts';
import { eventually, startCli, type CliProcess } from './helpers/cluster-processes.ts';

/** The rows under "Events:" in `kubectl describe` output: Type, Reason, Age, From, Message. */
function describeEvents(output: string): string[][] {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Events:'));
  assert.notEqual(start, -1, `no Events section in:\n${output}`);
  return parseColumns(lines.slice(start + 1).join('\n')).slice(2);
}

const APPLICATION = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
  namespace: shop
  labels: {app: frontend}
spec:
  replicas: 2
  selector:
    matchLabels: {app: frontend}
  template:
    metadata:
      labels: {app: frontend}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
  namespace: shop
spec:
  replicas: 2
  strategy:
    type: Recreate
  selector:
    matchLabels: {app: cart}
  template:
    metadata:
      labels: {app: cart}
    spec:
      containers:
      - name: redis
        image: redis:7
        resources:
          requests: {cpu: 100m, memory: 64Mi}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
spec:
  replicas: 1
  minReadySeconds: 1
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout, tier: backend}
    spec:
      containers:
      - name: api
        image: registry.example/checkout:2.1
`;

describe('workloads with kubefacade up, driven by kubectl', () => {
  let dataDir: string;
  let up: CliProcess;
  let kubectl: Kubectl;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-workloads-'));
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--kubelet-port', '0', '--nodes', '3', '--image-pull-delay', '200ms']);
    await up.waitForOutput(/kubefacade is up: API server (https:\/\/127\.0\.0\.1:\d+), nodes (.+)\n/);
    const [, kubeconfigPath] = await up.waitForOutput(/kubectl --kubeconfig (\S+) get nodes/);
    kubectl = await Kubectl.create(kubeconfigPath);
  });

  after(async () => {
    await kubectl?.dispose();
    await up?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('create deployment: 3/3 available, one ReplicaSet named by its pod-template-hash, events as upstream', async () => {
    assert.equal(await kubectl.ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3']), 'deployment.apps/web created\n');
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    const rows = parseColumns(await kubectl.ok(['get', 'deploy', 'web']));
    assert.deepEqual(rows[0], ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    assert.deepEqual(rows[1].slice(0, 4), ['web', '3/3', '3', '3']);
    await kubectl.ok(['wait', '--for=condition=Available', 'deployment/web', '--timeout=30s']);
    const rs = parseColumns(await kubectl.ok(['get', 'rs', '-l', 'app=web', '-o', 'wide']));
    assert.equal(rs.length, 2);
    const [name, desired, current, ready] = rs[1];
    assert.match(name, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.deepEqual([desired, current, ready], ['3', '3', '3']);
    assert.match(rs[1][7], /^app=web,pod-template-hash=/);
    const pods = parseColumns(await kubectl.ok(['get', 'pods', '-l', 'app=web']));
    assert.equal(pods.length, 4);
    for (const pod of pods.slice(1)) assert.ok(pod[0].startsWith(`${name}-`));
    const described = await kubectl.ok(['describe', 'deployment', 'web']);
    assert.match(described, /Available\s+True\s+MinimumReplicasAvailable/);
    assert.match(described, /Progressing\s+True\s+NewReplicaSetAvailable/);
    assert.match(described, new RegExp(`NewReplicaSet:\\s+${name} \\(3/3 replicas created\\)`));
    const events = describeEvents(described);
    assert.deepEqual(events.map((e) => [e[0], e[1], e[3]]), [['Normal', 'ScalingReplicaSet', 'deployment-controller']]);
    assert.equal(events[0].slice(4).join(' '), `Scaled up replica set ${name} from 0 to 3`);
    const rsEvents = describeEvents(await kubectl.ok(['describe', 'rs', name]));
    assert.equal(rsEvents.filter((e) => e[1] === 'SuccessfulCreate' && e[3] === 'replicaset-controller').length, 3);
  });

  test('set image rolls out within maxUnavailable (a watcher sees availability never drop); history has 2 revisions', async () => {
    // 25% of 3: maxUnavailable rounds down to 0, maxSurge up to 1 — availability must stay at 3.
    const watch = kubectl.stream(['get', 'deployment', 'web', '-w', '-o', 'jsonpath={.status.availableReplicas}/{.status.updatedReplicas}{"\\n"}']);
    try {
      await watch.waitFor(/^3\/3$/m);
      await kubectl.ok(['set', 'image', 'deployment/web', 'nginx=nginx:1.28']);
      await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=90s']);
      await eventually('the watcher to see the finished rollout', async () => (/^3\/3$/m.test(watch.stdout().split('\n').slice(2).join('\n')) ? true : undefined));
    } finally {
      await watch.stop();
    }
    const available = watch.stdout().trim().split('\n').map((line) => Number(line.split('/')[0]));
    assert.ok(available.length > 2, watch.stdout());
    assert.ok(available.every((count) => count >= 3), `availability dropped below 3: ${available.join(' ')}`);
    const history = parseColumns(await kubectl.ok(['rollout', 'history', 'deployment/web']));
    assert.deepEqual(history.slice(2).map((row) => row[0]), ['1', '2']);
    const rs = parseColumns(await kubectl.ok(['get', 'rs', '-l', 'app=web']));
    assert.deepEqual(rs.slice(1).map((row) => row[1]).sort(), ['0', '3']);
    assert.match(await kubectl.ok(['describe', 'deployment', 'web']), /Scaled down replica set web-\S+ from 1 to 0/);
  });

  test('rollout undo brings back the first image and reuses its ReplicaSet (revision 1 becomes 3)', async () => {
    assert.match(await kubectl.ok(['rollout', 'undo', 'deployment/web']), /deployment.apps\/web rolled back/);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    assert.equal(await kubectl.ok(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.27');
    const history = parseColumns(await kubectl.ok(['rollout', 'history', 'deployment/web']));
    assert.deepEqual(history.slice(2).map((row) => row[0]), ['2', '3']);
    assert.equal(parseColumns(await kubectl.ok(['get', 'rs', '-l', 'app=web'])).length, 3);
  });

  test('scale --replicas=5, pause and resume', async () => {
    await kubectl.ok(['scale', 'deployment/web', '--replicas=5']);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.deepEqual(parseColumns(await kubectl.ok(['get', 'deploy', 'web']))[1].slice(0, 4), ['web', '5/5', '5', '5']);
    await kubectl.ok(['rollout', 'pause', 'deployment/web']);
    await kubectl.ok(['set', 'env', 'deployment/web', 'MODE=paused']);
    await eventually('the Progressing condition to say paused', async () => (
      /Progressing\s+Unknown\s+DeploymentPaused/.test(await kubectl.ok(['describe', 'deployment', 'web'])) ? true : undefined));
    assert.equal(parseColumns(await kubectl.ok(['get', 'rs', '-l', 'app=web'])).length, 3, 'no new ReplicaSet while paused');
    await kubectl.ok(['rollout', 'resume', 'deployment/web']);
    await kubectl.ok(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    assert.equal(parseColumns(await kubectl.ok(['get', 'rs', '-l', 'app=web'])).length, 4);
  });

  test('delete --cascade=foreground removes the pods before the Deployment', async () => {
    const watch = kubectl.stream(['get', 'deployment', 'web', '-w', '-o', 'jsonpath={.metadata.name} {.metadata.finalizers}{"\\n"}']);
    try {
      await watch.waitFor(/^web/m);
      await kubectl.ok(['delete', 'deployment', 'web', '--cascade=foreground', '--timeout=60s']);
    } finally {
      await watch.stop();
    }
    assert.match(watch.stdout(), /web \["foregroundDeletion"\]/);
    assert.equal((await kubectl.run(['get', 'deployment', 'web'])).code, 1);
    assert.equal(await kubectl.ok(['get', 'pods,rs', '-l', 'app=web', '-o', 'name']), '');
  });

  test('delete --cascade=orphan leaves the ReplicaSet and pods without ownerReferences; background deletes them', async () => {
    await kubectl.ok(['create', 'deployment', 'keep', '--image=nginx:1.27', '--replicas=2']);
    await kubectl.ok(['rollout', 'status', 'deployment/keep', '--timeout=60s']);
    await kubectl.ok(['delete', 'deployment', 'keep', '--cascade=orphan']);
    const rsOwners = await eventually('the ReplicaSet to be orphaned', async () => {
      const owners = await kubectl.ok(['get', 'rs', '-l', 'app=keep', '-o', 'jsonpath={.items[*].metadata.ownerReferences}']);
      return owners === '' ? owners : undefined;
    });
    assert.equal(rsOwners, '');
    const rsName = (await kubectl.ok(['get', 'rs', '-l', 'app=keep', '-o', 'name'])).trim();
    await kubectl.ok(['delete', rsName, '--cascade=orphan']);
    await eventually('the pods to be orphaned', async () => {
      const owners = await kubectl.ok(['get', 'pods', '-l', 'app=keep', '-o', 'jsonpath={.items[*].metadata.ownerReferences}']);
      return owners === '' ? true : undefined;
    });
    assert.equal(parseColumns(await kubectl.ok(['get', 'pods', '-l', 'app=keep'])).length, 3);
    await kubectl.ok(['delete', 'pods', '-l', 'app=keep', '--wait=false']);
  });

  test('a Job of 5 completions with parallelism 2 completes; wait --for=condition=complete returns; logs job/x', async () => {
    const manifest = join(dataDir, 'job.yaml');
    await writeFile(manifest, `apiVersion: batch/v1
kind: Job
metadata: {name: five}
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: busybox
        command: ["sh", "-c", "echo done; sleep 1"]
`);
    await kubectl.ok(['apply', '-f', manifest]);
    const running = parseColumns(await kubectl.ok(['get', 'pods', '-l', 'job-name=five', '--field-selector=status.phase!=Succeeded']));
    assert.ok(running.length - 1 <= 2, 'never more than parallelism pods at once');
    assert.equal(await kubectl.ok(['wait', '--for=condition=complete', 'job/five', '--timeout=90s']), 'job.batch/five condition met\n');
    const rows = parseColumns(await kubectl.ok(['get', 'job', 'five']));
    assert.deepEqual(rows[0], ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    assert.deepEqual(rows[1].slice(0, 3), ['five', 'Complete', '5/5']);
    assert.match(await kubectl.ok(['logs', 'job/five']), /done/);
    const events = describeEvents(await kubectl.ok(['describe', 'job', 'five']));
    assert.equal(events.filter((e) => e[1] === 'SuccessfulCreate').length, 5);
    assert.deepEqual(events.at(-1)?.slice(0, 2), ['Normal', 'Completed']);
  });

  test('a failing Job reaches Failed after backoffLimit', async () => {
    await kubectl.ok(['create', 'job', 'flaky', '--image=busybox', '--', 'sh', '-c', 'exit 3']);
    await kubectl.ok(['patch', 'job', 'flaky', '--type=merge', '-p', '{"spec":{"backoffLimit":0}}']).catch(() => '');
    assert.equal(await kubectl.ok(['wait', '--for=condition=failed', 'job/flaky', '--timeout=120s']), 'job.batch/flaky condition met\n');
    const described = await kubectl.ok(['describe', 'job', 'flaky']);
    assert.match(described, /Warning\s+BackoffLimitExceeded\s+\S+\s+job-controller\s+Job has reached the specified backoff limit/);
  });

  test('create cronjob, then create job --from=cronjob runs its template', async () => {
    await kubectl.ok(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/1 * * * *', '--', 'echo', 'tick']);
    const rows = parseColumns(await kubectl.ok(['get', 'cronjob', 'tick']));
    assert.deepEqual(rows[0], ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    assert.deepEqual(rows[1].slice(0, 6), ['tick', '*/1 * * * *', '<none>', 'False', '0', '<none>']);
    assert.equal(await kubectl.ok(['create', 'job', 'tick-manual', '--from=cronjob/tick']), 'job.batch/tick-manual created\n');
    await kubectl.ok(['wait', '--for=condition=complete', 'job/tick-manual', '--timeout=60s']);
    assert.equal(await kubectl.ok(['get', 'job', 'tick-manual', '-o', 'jsonpath={.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}']), 'manual');
    await kubectl.ok(['delete', 'cronjob', 'tick']);
  });

  test('a DaemonSet runs one pod per node', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: fluentd:v1
` });
    await kubectl.ok(['rollout', 'status', 'ds/agent', '--timeout=60s']);
    const pods = parseColumns(await kubectl.ok(['get', 'pods', '-l', 'app=agent', '-o', 'wide'])).slice(1);
    assert.deepEqual(pods.map((row) => row[6]).sort(), ['node01', 'node02', 'node03']);
    assert.deepEqual(parseColumns(await kubectl.ok(['get', 'ds', 'agent']))[1].slice(0, 6), ['agent', '3', '3', '3', '3', '3']);
  });

  test('a DaemonSet rolls with maxSurge: the updated pod starts beside the old one, which goes once it is available', async () => {
    interface AgentPod { metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string }; spec: { containers: { image: string }[] }; status: { conditions?: { type: string; status: string }[] } }
    const snapshots: AgentPod[][] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        snapshots.push((JSON.parse(await kubectl.ok(['get', 'pods', '-l', 'app=agent', '-o', 'json'])) as { items: AgentPod[] }).items);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    try {
      // minReadySeconds keeps each updated pod unavailable for 2 s, so the surge is visible to the poller.
      await kubectl.ok(['patch', 'ds', 'agent', '--type', 'merge', '-p', JSON.stringify({
        spec: { minReadySeconds: 2, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
      })]);
      // Old pods not yet available (ready for less than minReadySeconds) would be replaced at once, surge or not, as
      // upstream does: wait until all three count as available first.
      await kubectl.ok(['rollout', 'status', 'ds/agent', '--timeout=60s'], { timeoutMs: 70_000 });
      await eventually('three available pods', async () => (await kubectl.ok(['get', 'ds', 'agent', '-o', 'jsonpath={.status.numberAvailable}'])) === '3' ? true : undefined);
      await kubectl.ok(['set', 'image', 'ds/agent', 'agent=fluentd:v2']);
      await kubectl.ok(['rollout', 'status', 'ds/agent', '--timeout=90s'], { timeoutMs: 100_000 });
    } finally {
      polling = false;
      await poller;
    }
    // The old pods may still be terminating when rollout status returns.
    await eventually('three updated pods and nothing else', async () => {
      const pods = (JSON.parse(await kubectl.ok(['get', 'pods', '-l', 'app=agent', '-o', 'json'])) as { items: AgentPod[] }).items;
      return pods.length === 3 && pods.every((pod) => pod.spec.containers[0].image === 'fluentd:v2') ? pods : undefined;
    }, 60_000);
    const ready = (pods: AgentPod[]): number => pods.filter((pod) => !pod.metadata.deletionTimestamp
      && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    // maxUnavailable 0: never fewer than three ready pods. maxSurge 1: one node at a time holds an updated pod that is
    // not available yet beside its old one; the sync that deletes that old pod (its replacement is available) also
    // starts the next node's, as upstream's does, so for a moment two nodes may hold two pods, never more.
    assert.ok(snapshots.every((pods) => ready(pods) >= 3), `ready counts: ${snapshots.map(ready).join(',')}`);
    const live = snapshots.map((pods) => pods.filter((pod) => !pod.metadata.deletionTimestamp).length);
    assert.ok(live.some((count) => count >= 4), `pod counts: ${live.join(',')}`);
    assert.ok(live.every((count) => count <= 5), `pod counts: ${live.join(',')}`);
  });

  test('a StatefulSet creates web-0 before web-1 and deletes in reverse', async () => {
    const watch = kubectl.stream(['get', 'pods', '-l', 'app=sts', '-w', '--output-watch-events', '-o', 'custom-columns=EVENT:.type,NAME:.object.metadata.name', '--no-headers']);
    try {
      await eventually('the watch to start', async () => (watch.stdout() !== undefined ? true : undefined));
      await kubectl.ok(['apply', '-f', '-'], { input: `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  selector:
    matchLabels: {app: sts}
  template:
    metadata:
      labels: {app: sts}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
` });
      await kubectl.ok(['rollout', 'status', 'sts/web', '--timeout=90s']);
      await kubectl.ok(['scale', 'sts/web', '--replicas=0']);
      await eventually('all pods gone', async () => ((await kubectl.ok(['get', 'pods', '-l', 'app=sts', '-o', 'name'])) === '' ? true : undefined), 60_000);
      await watch.waitFor(/DELETED\s+web-0/);
    } finally {
      await watch.stop();
    }
    const lines = watch.stdout().trim().split('\n').map((line) => line.trim().split(/\s+/));
    const firstAdded = (name: string) => lines.findIndex(([type, pod]) => type === 'ADDED' && pod === name);
    const deleted = (name: string) => lines.findIndex(([type, pod]) => type === 'DELETED' && pod === name);
    assert.ok(firstAdded('web-0') < firstAdded('web-1') && firstAdded('web-1') < firstAdded('web-2'), watch.stdout());
    assert.ok(deleted('web-2') < deleted('web-1') && deleted('web-1') < deleted('web-0'), watch.stdout());
  });

  test('drain is refused while a PodDisruptionBudget allows no disruption and proceeds when it does', async () => {
    await kubectl.ok(['create', 'deployment', 'guarded', '--image=nginx:1.27', '--replicas=3']);
    await kubectl.ok(['rollout', 'status', 'deployment/guarded', '--timeout=60s']);
    await kubectl.ok(['create', 'pdb', 'guard', '--selector=app=guarded', '--min-available=3']);
    await eventually('the budget to be computed', async () => (
      (await kubectl.ok(['get', 'pdb', 'guard', '-o', 'jsonpath={.status.currentHealthy}'])) === '3' ? true : undefined));
    const node = await kubectl.ok(['get', 'pods', '-l', 'app=guarded', '-o', 'jsonpath={.items[0].spec.nodeName}']);
    const refused = await kubectl.run(['drain', node, '--ignore-daemonsets', '--timeout=5s']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr + refused.stdout, /Cannot evict pod as it would violate the pod's disruption budget|global timeout reached/);
    assert.equal(parseColumns(await kubectl.ok(['get', 'pods', '-l', 'app=guarded', '--field-selector', `spec.nodeName=${node}`])).length > 1, true);
    await kubectl.ok(['patch', 'pdb', 'guard', '--type=merge', '-p', '{"spec":{"minAvailable":2}}']);
    await eventually('one disruption allowed', async () => (
      (await kubectl.ok(['get', 'pdb', 'guard', '-o', 'jsonpath={.status.disruptionsAllowed}'])) === '1' ? true : undefined));
    const drained = await kubectl.ok(['drain', node, '--ignore-daemonsets', '--timeout=60s']);
    assert.match(drained, new RegExp(`node/${node} drained`));
    await kubectl.ok(['rollout', 'status', 'deployment/guarded', '--timeout=60s']);
    const placed = parseColumns(await kubectl.ok(['get', 'pods', '-l', 'app=guarded', '-o', 'wide'])).slice(1);
    assert.ok(placed.every((row) => row[6] !== node), 'no guarded pod left on the drained node');
    await kubectl.ok(['uncordon', node]);
  });

  test('a multi-document application manifest reaches all Available; get all lists it', async () => {
    const manifest = join(dataDir, 'shop.yaml');
    await writeFile(manifest, APPLICATION);
    assert.equal(await kubectl.ok(['apply', '-f', manifest]),
      'namespace/shop created\ndeployment.apps/frontend created\ndeployment.apps/cart created\ndeployment.apps/checkout created\n');
    await kubectl.ok(['-n', 'shop', 'wait', '--for=condition=Available', 'deployment', '--all', '--timeout=90s']);
    const all = await kubectl.ok(['-n', 'shop', 'get', 'all']);
    assert.match(all, /deployment\.apps\/frontend\s+2\/2\s+2\s+2/);
    assert.match(all, /deployment\.apps\/cart\s+2\/2\s+2\s+2/);
    assert.match(all, /deployment\.apps\/checkout\s+1\/1\s+1\s+1/);
    assert.equal((all.match(/^pod\//gm) ?? []).length, 5);
    // Recreate: the old pods go before any new one starts.
    await kubectl.ok(['-n', 'shop', 'set', 'image', 'deployment/cart', 'redis=redis:7.2']);
    await kubectl.ok(['-n', 'shop', 'rollout', 'status', 'deployment/cart', '--timeout=90s']);
    const events = describeEvents(await kubectl.ok(['-n', 'shop', 'describe', 'deployment', 'cart'])).map((e) => e.slice(4).join(' '));
    const down = events.findIndex((message) => /^Scaled down replica set cart-\S+ from 2 to 0$/.test(message));
    const upAgain = events.findIndex((message) => /^Scaled up replica set cart-\S+ from 0 to 2$/.test(message) && events.indexOf(message) > 0);
    assert.ok(down > 0 && upAgain > down, events.join('\n'));
    await kubectl.ok(['delete', 'namespace', 'shop', '--timeout=90s']);
  });
});
