// `kubefacade up` as a user runs it (one child process: API server, scheduler, simulated nodes, node lifecycle
// controller), driven only by the real kubectl: the "Bundled scheduler and kubelet" walkthrough end to end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kubectl, parseColumns } from './helpers/kubectl.ts';
import { eventually, ipInCidr, startCli, type CliProcess } from './helpers/cluster-processes.ts';

const WEB_POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - containerPort: 80
  - name: redis
    image: redis:7
`;

/** The rows under "Events:" in `kubectl describe` output, split into Type, Reason, Age, From, Message. */
function describeEvents(output: string): string[][] {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Events:'));
  assert.notEqual(start, -1, `no Events section in:\n${output}`);
  const rows = parseColumns(lines.slice(start + 1).join('\n'));
  assert.deepEqual(rows[0], ['Type', 'Reason', 'Age', 'From', 'Message']);
  return rows.slice(2);
}

describe('kubefacade up, driven by kubectl', () => {
  let dataDir: string;
  let up: CliProcess;
  let kubectl: Kubectl;
  let nodes: string[];
  let podNode: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-up-'));
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--kubelet-port', '0', '--nodes', '3',
      '--image-pull-delay', '400ms', '--node-monitor-grace-period', '20s']);
    const [, , nodeList] = await up.waitForOutput(/kubefacade is up: API server (https:\/\/127\.0\.0\.1:\d+), nodes (.+)\n/);
    nodes = nodeList.split(', ');
    const [, kubeconfigPath] = await up.waitForOutput(/kubectl --kubeconfig (\S+) get nodes/);
    assert.equal(kubeconfigPath, join(dataDir, 'admin.kubeconfig'), 'up prints the admin kubeconfig it wrote');
    kubectl = await Kubectl.create(kubeconfigPath);
  });

  after(async () => {
    await kubectl?.dispose();
    await up?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the nodes are registered and Ready', async () => {
    assert.deepEqual(nodes, ['node01', 'node02', 'node03']);
    const rows = parseColumns(await kubectl.ok(['get', 'nodes']));
    assert.deepEqual(rows[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    assert.deepEqual(rows.slice(1).map((row) => [row[0], row[1], row[2], row[4]]), nodes.map((name) => [name, 'Ready', '<none>', 'v1.32.3']));
  });

  test('kubectl apply: the pod goes Pending → ContainerCreating → Running 2/2 and `wait` sees it Ready', async () => {
    const manifest = join(dataDir, 'web.yaml');
    await writeFile(manifest, WEB_POD);
    // -v=6 logs each request on stderr (stdout is unchanged): the apply waits until the watch is open, so the
    // rows below are every change the pod went through.
    const watch = kubectl.stream(['get', 'pods', '-w', '-v=6']);
    try {
      await eventually('get -w to open its watch', async () => (/pods\?resourceVersion=\d+&watch=true 200 OK/.test(watch.stderr()) ? true : undefined));
      assert.equal(await kubectl.ok(['apply', '-f', manifest]), 'pod/web created\n');
      // The whole row, newline included: a chunk can end inside it (after STATUS, before RESTARTS and AGE).
      await watch.waitFor(/^web\s+2\/2\s+Running\s+\S+\s+\S+\n/m);
    } finally {
      await watch.stop();
    }
    const rows = parseColumns(watch.stdout());
    assert.deepEqual(rows[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const statuses = rows.slice(1).map((row) => row[2]).filter((status, i, all) => i === 0 || all[i - 1] !== status);
    assert.deepEqual(statuses, ['Pending', 'ContainerCreating', 'Running'], watch.stdout());
    assert.deepEqual(rows.at(-1)?.slice(0, 4), ['web', '2/2', 'Running', '0']);

    assert.equal(await kubectl.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=60s']), 'pod/web condition met\n');
    const [header, row] = parseColumns(await kubectl.ok(['get', 'pod', 'web']));
    assert.deepEqual(header, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    assert.deepEqual(row.slice(0, 4), ['web', '2/2', 'Running', '0']);
  });

  test('get -o wide shows the node and a pod IP from that node\'s pod CIDR', async () => {
    const [header, row] = parseColumns(await kubectl.ok(['get', 'pods', '-o', 'wide']));
    assert.deepEqual(header, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    const [name, , , , , ip, node, nominated, gates] = row;
    assert.deepEqual([name, nominated, gates], ['web', '<none>', '<none>']);
    assert.ok(nodes.includes(node), `pod placed on ${node}`);
    podNode = node;
    const cidr = await kubectl.ok(['get', 'node', node, '-o', 'jsonpath={.spec.podCIDR}']);
    assert.match(cidr, /^10\.244\.\d+\.0\/24$/);
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(ipInCidr(ip, cidr), `pod IP ${ip} is in ${node}'s pod CIDR ${cidr}`);
    const hostIp = await kubectl.ok(['get', 'node', node, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}']);
    assert.equal(await kubectl.ok(['get', 'pod', 'web', '-o', 'jsonpath={.status.hostIP}']), hostIp);
  });

  test('describe lists Scheduled, then Pulling/Pulled/Created/Started for nginx and then for redis', async () => {
    // Events are written asynchronously after the status that made the pod Ready; wait for the last one.
    const output = await eventually('nine events in describe', async () => {
      const text = await kubectl.ok(['describe', 'pod', 'web']);
      return describeEvents(text).length >= 9 ? text : undefined;
    });
    assert.match(output, new RegExp(`^Node:\\s+${podNode}/127\\.0\\.\\d+\\.\\d+$`, 'm'));
    assert.match(output, /^Status:\s+Running$/m);
    const events = describeEvents(output).map(([type, reason, , from, message]) => [type, reason, from, message]);
    const pulled = (image: string) => new RegExp(`^Successfully pulled image "${image}" in \\d+ms \\(\\d+ms including waiting\\)\\. Image size: \\d+ bytes\\.$`);
    assert.equal(events.length, 9, output);
    assert.deepEqual(events[0], ['Normal', 'Scheduled', 'default-scheduler', `Successfully assigned default/web to ${podNode}`]);
    const expectKubelet = (offset: number, container: string, image: string): void => {
      assert.deepEqual(events[offset], ['Normal', 'Pulling', 'kubelet', `Pulling image "${image}"`]);
      assert.deepEqual(events[offset + 1].slice(0, 3), ['Normal', 'Pulled', 'kubelet']);
      assert.match(events[offset + 1][3], pulled(image));
      assert.deepEqual(events[offset + 2], ['Normal', 'Created', 'kubelet', `Created container: ${container}`]);
      assert.deepEqual(events[offset + 3], ['Normal', 'Started', 'kubelet', `Started container ${container}`]);
    };
    expectKubelet(1, 'nginx', 'nginx:1.27');
    expectKubelet(5, 'redis', 'redis:7');
  });

  test('logs prints the container log; logs -f keeps streaming', async () => {
    assert.equal(await kubectl.ok(['logs', 'web', '-c', 'redis']), 'kubefacade: simulated container "redis" (image redis:7) started\n');
    const follow = kubectl.stream(['logs', '-f', 'web', '-c', 'nginx']);
    try {
      const out = await follow.waitFor(/\n/);
      assert.equal(out, 'kubefacade: simulated container "nginx" (image nginx:1.27) started\n');
      assert.equal(follow.child.exitCode, null, 'logs -f is still following after the first line');
    } finally {
      await follow.stop();
    }
  });

  test('kubectl delete returns once the kubelet has stopped the containers and confirmed', async () => {
    assert.equal(await kubectl.ok(['delete', 'pod', 'web']), 'pod "web" deleted\n');
    // The DELETE left a 30 s grace period; only the kubelet's confirming delete can have removed the pod this soon.
    const gone = await kubectl.run(['get', 'pod', 'web']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'Error from server (NotFound): pods "web" not found\n');
    const killing = await eventually('two Killing events', async () => {
      const out = await kubectl.ok(['get', 'events', '--field-selector', 'involvedObject.name=web,reason=Killing',
        '-o', 'jsonpath={range .items[*]}{.source.component} {.message}{"\\n"}{end}']);
      const lines = out.trim().split('\n').filter(Boolean);
      return lines.length >= 2 ? lines : undefined;
    });
    assert.deepEqual(killing.sort(), ['kubelet Stopping container nginx', 'kubelet Stopping container redis']);
  });

  test('SIGTERM shuts the whole cluster down cleanly', async () => {
    await up.kill('SIGTERM');
    assert.equal(await up.exited, 0, up.output());
    assert.match(up.output(), /received SIGTERM, shutting down/);
  });
});
