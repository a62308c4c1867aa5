// The real kubectl (1.32, picked by the dispatcher from /version) against `kubefacade server` running
// alone as a child process: no scheduler, no kubelets. Status, events, nodes and bindings that those
// components would write are written here with @kubernetes/client-node, so every row and section
// kubectl prints comes from data that went through the HTTPS API. The tests run in order and build on
// one another's objects (pods web and ssa, node node-a), as a user's session would.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { Kubectl, parseColumns, requireKubectl } from './helpers/kubectl.ts';
import { startServerProcess, type ServerProcess } from './helpers/server-process.ts';

const AGE = /^\d+(s|m\d*s?)$/;

/** The parts of kubectl's -o yaml / -o json pod output these tests read. */
interface PodDocument {
  kind: string;
  metadata: { name: string; uid: string; resourceVersion: string; creationTimestamp: string };
  spec: Record<string, unknown> & { containers: Record<string, unknown>[]; tolerations: { key: string }[] };
  status: { phase: string; qosClass: string };
}

function podYaml(name: string, app: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    app: ${app}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - containerPort: 80
  - name: redis
    image: redis:7
`;
}

describe('kubectl against kubefacade server', () => {
  let server: ServerProcess | undefined;
  let kubectl: Kubectl | undefined;
  let core: CoreV1Api;
  let manifests: string;

  const k = () => kubectl!;
  const manifest = async (file: string, text: string): Promise<string> => {
    const path = join(manifests, file);
    await writeFile(path, text);
    return path;
  };

  before(async () => {
    requireKubectl(); // fails the suite at once if kubectl is not installed
    server = await startServerProcess('kubefacade-kubectl-e2e-', { serviceAccountAdmission: true });
    kubectl = await Kubectl.create(server.kubeconfigPath);
    manifests = server.dataDir;
    core = server.kubeConfig().makeApiClient(CoreV1Api);
  });

  after(async () => {
    await kubectl?.dispose();
    await server?.dispose();
  });

  test('client-side apply: created, configured, unchanged', async () => {
    const file = await manifest('web.yaml', podYaml('web', 'web'));
    assert.equal(await k().ok(['apply', '-f', file]), 'pod/web created\n');
    await writeFile(file, podYaml('web', 'web2'));
    assert.equal(await k().ok(['apply', '-f', file]), 'pod/web configured\n');
    assert.equal(await k().ok(['apply', '-f', file]), 'pod/web unchanged\n');
    const pod = await core.readNamespacedPod({ name: 'web', namespace: 'default' });
    assert.equal(pod.metadata?.labels?.app, 'web2');
    const lastApplied = JSON.parse(pod.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? '{}');
    assert.deepEqual(lastApplied.metadata, { annotations: {}, labels: { app: 'web2' }, name: 'web', namespace: 'default' });
  });

  test('server-side apply: serverside-applied on create and on a change', async () => {
    const file = await manifest('ssa.yaml', podYaml('ssa', 'one'));
    assert.equal(await k().ok(['apply', '--server-side', '-f', file]), 'pod/ssa serverside-applied\n');
    await writeFile(file, podYaml('ssa', 'two'));
    assert.equal(await k().ok(['apply', '--server-side', '-f', file]), 'pod/ssa serverside-applied\n');
    const pod = await core.readNamespacedPod({ name: 'ssa', namespace: 'default' });
    assert.equal(pod.metadata?.labels?.app, 'two');
    assert.deepEqual(JSON.parse(JSON.stringify(pod.spec?.containers[0]?.ports)), [{ containerPort: 80, protocol: 'TCP' }]);
    assert.ok(pod.metadata?.managedFields?.some((entry) => entry.manager === 'kubectl' && entry.operation === 'Apply'));
  });

  test('get pods prints the server-side Table, and -o wide adds the priority-1 columns', async () => {
    const rows = parseColumns(await k().ok(['get', 'pods']));
    assert.deepEqual(rows[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    assert.deepEqual(rows.slice(1).map((row) => row.slice(0, 4)), [['ssa', '0/2', 'Pending', '0'], ['web', '0/2', 'Pending', '0']]);
    for (const row of rows.slice(1)) assert.match(row[4] ?? '', AGE);

    const wide = parseColumns(await k().ok(['get', 'pods', '-o', 'wide']));
    assert.deepEqual(wide[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    assert.deepEqual(wide.slice(1).map((row) => [...row.slice(0, 4), ...row.slice(5)]), [
      ['ssa', '0/2', 'Pending', '0', '<none>', '<none>', '<none>', '<none>'],
      ['web', '0/2', 'Pending', '0', '<none>', '<none>', '<none>', '<none>'],
    ]);
  });

  test('get -o yaml and -o json carry the defaulted pod', async () => {
    const pod = parseYaml(await k().ok(['get', 'pod', 'web', '-o', 'yaml'])) as PodDocument;
    assert.equal(pod.kind, 'Pod');
    assert.equal(pod.metadata.name, 'web');
    assert.match(pod.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(pod.metadata.resourceVersion, /^\d+$/);
    assert.match(pod.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(pod.status.phase, 'Pending');
    assert.equal(pod.status.qosClass, 'BestEffort');

    const list = JSON.parse(await k().ok(['get', 'pods', '-o', 'json'])) as { kind: string; items: PodDocument[] };
    assert.equal(list.kind, 'List');
    const web = list.items.find((item) => item.metadata.name === 'web');
    assert.ok(web);
    assert.equal(web.metadata.uid, pod.metadata.uid);
    const spec = web.spec;
    assert.equal(spec.restartPolicy, 'Always');
    assert.equal(spec.dnsPolicy, 'ClusterFirst');
    assert.equal(spec.terminationGracePeriodSeconds, 30);
    assert.equal(spec.schedulerName, 'default-scheduler');
    assert.equal(spec.serviceAccountName, 'default');
    assert.equal(spec.enableServiceLinks, true);
    assert.equal(spec.priority, 0);
    assert.deepEqual(spec.securityContext, {});
    assert.deepEqual(spec.tolerations.map((t) => t.key), ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
    // The ServiceAccount admission plugin mounts the projected token volume, as on a real cluster.
    const { volumeMounts, ...container } = spec.containers[0] as Record<string, unknown>;
    assert.deepEqual(container, {
      name: 'nginx', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80, protocol: 'TCP' }],
      resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
    });
    assert.deepEqual(volumeMounts, [{ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: (volumeMounts as { name: string }[])[0].name, readOnly: true }]);
    assert.match((volumeMounts as { name: string }[])[0].name, /^kube-api-access-[a-z0-9]{5}$/);
    assert.equal(spec.containers[1]?.imagePullPolicy, 'IfNotPresent');
  });

  test('get pods -w prints a MODIFIED row for a /status update made by client-node', async () => {
    const watch = k().stream(['get', 'pods', '-w']);
    try {
      await watch.waitFor(/^web\s+0\/2\s+Pending\s+0\s+\S+\s*$/m);
      const now = new Date();
      const running = (name: string) => ({
        name, ready: true, started: true, restartCount: 0, image: name === 'nginx' ? 'nginx:1.27' : 'redis:7', imageID: '',
        state: { running: { startedAt: now } },
      });
      await core.patchNamespacedPodStatus({ name: 'web', namespace: 'default', body: { status: {
        phase: 'Running',
        conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
        containerStatuses: [running('nginx'), running('redis')],
      } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      const out = await watch.waitFor(/^web\s+2\/2\s+Running\s+0\s+\S+\s*$/m);
      const lines = out.trimEnd().split('\n');
      assert.match(lines[0]!, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
      // One header only: the watch events came back as Table rows in the same columns.
      assert.equal(lines.filter((line) => line.startsWith('NAME')).length, 1);
      assert.match(lines.at(-1)!, /^web\s+2\/2\s+Running/);
    } finally {
      await watch.stop();
    }
  });

  test('describe pod shows the status and an Events section from events posted by client-node', async () => {
    const pod = await core.readNamespacedPod({ name: 'web', namespace: 'default' });
    const involvedObject = { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'web', uid: pod.metadata?.uid };
    const post = async (name: string, reason: string, message: string, component: string, secondsAgo: number, type = 'Normal') => {
      const at = new Date(Date.now() - secondsAgo * 1000);
      await core.createNamespacedEvent({ namespace: 'default', body: {
        metadata: { name }, involvedObject, reason, message, type, count: 1,
        source: { component }, firstTimestamp: at, lastTimestamp: at,
      } });
    };
    await post('web.1', 'Scheduled', 'Successfully assigned default/web to node-a', 'default-scheduler', 20);
    await post('web.2', 'Pulled', 'Container image "nginx:1.27" already present on machine', 'kubelet', 10);
    await post('web.3', 'BackOff', 'Back-off pulling image "redis:7"', 'kubelet', 5, 'Warning');
    // Same name, other object: the involvedObject field selector must keep it out.
    const ssa = await core.readNamespacedPod({ name: 'ssa', namespace: 'default' });
    await core.createNamespacedEvent({ namespace: 'default', body: {
      metadata: { name: 'ssa.1' }, involvedObject: { ...involvedObject, name: 'ssa', uid: ssa.metadata?.uid },
      reason: 'Killing', message: 'Stopping container nginx', type: 'Normal', source: { component: 'kubelet' },
    } });

    const out = await k().ok(['describe', 'pod', 'web']);
    assert.match(out, /^Name:\s+web$/m);
    assert.match(out, /^Namespace:\s+default$/m);
    assert.match(out, /^Labels:\s+app=web2$/m);
    assert.match(out, /^Status:\s+Running$/m);
    assert.match(out, /^\s+Port:\s+80\/TCP$/m);
    assert.match(out, /^\s+Ready\s+True\s*$/m);
    const events = out.slice(out.indexOf('\nEvents:'));
    const rows = parseColumns(events).slice(1);
    assert.deepEqual(rows[0], ['Type', 'Reason', 'Age', 'From', 'Message']);
    assert.deepEqual(rows.slice(2).map(([type, reason, , from, message]) => [type, reason, from, message]), [
      ['Normal', 'Scheduled', 'default-scheduler', 'Successfully assigned default/web to node-a'],
      ['Normal', 'Pulled', 'kubelet', 'Container image "nginx:1.27" already present on machine'],
      ['Warning', 'BackOff', 'kubelet', 'Back-off pulling image "redis:7"'],
    ]);
    assert.doesNotMatch(out, /Stopping container/);
  });

  test('get nodes shows a node created by client-node with its Ready condition', async () => {
    await core.createNode({ body: {
      metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' } },
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
        addresses: [{ type: 'InternalIP', address: '10.0.0.11' }],
        nodeInfo: {
          kubeletVersion: 'v1.32.0', kubeProxyVersion: 'v1.32.0', containerRuntimeVersion: 'containerd://1.7.0',
          kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)', operatingSystem: 'linux', architecture: 'amd64',
          machineID: 'm', systemUUID: 's', bootID: 'b',
        },
      },
    } });
    const rows = parseColumns(await k().ok(['get', 'nodes']));
    assert.deepEqual(rows[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    assert.equal(rows.length, 2);
    const [name, status, roles, age, version] = rows[1]!;
    assert.deepEqual([name, status, roles, version], ['node-a', 'Ready', '<none>', 'v1.32.0']);
    assert.match(age ?? '', AGE);
  });

  test('label and annotate', async () => {
    assert.equal(await k().ok(['label', 'pod', 'web', 'tier=frontend']), 'pod/web labeled\n');
    assert.equal(await k().ok(['annotate', 'pod', 'web', 'example.com/owner=team-a']), 'pod/web annotated\n');
    const rows = parseColumns(await k().ok(['get', 'pod', 'web', '-L', 'tier']));
    assert.deepEqual(rows[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'TIER']);
    assert.equal(rows[1]?.[5], 'frontend');
    assert.equal(await k().ok(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.annotations.example\\.com/owner}']), 'team-a');
    const refused = await k().run(['label', 'pod', 'web', 'tier=backend']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /'tier' already has a value \(frontend\), and --overwrite is false/);
    assert.equal(await k().ok(['label', 'pod', 'web', 'tier-']), 'pod/web unlabeled\n');
    const pod = await core.readNamespacedPod({ name: 'web', namespace: 'default' });
    assert.deepEqual(pod.metadata?.labels, { app: 'web2' });
  });

  test('delete: --wait=false, the default wait, and a graceful delete of a bound pod', async () => {
    assert.equal(await k().ok(['delete', 'pod', 'ssa', '--wait=false']), 'pod "ssa" deleted\n');
    const gone = await k().run(['get', 'pod', 'ssa']);
    assert.equal(gone.stderr, 'Error from server (NotFound): pods "ssa" not found\n');

    assert.equal(await k().ok(['create', '-f', await manifest('tmp.yaml', podYaml('tmp', 'tmp'))]), 'pod/tmp created\n');
    assert.equal(await k().ok(['delete', 'pod', 'tmp']), 'pod "tmp" deleted\n');
    assert.equal((await k().run(['get', 'pod', 'tmp'])).code, 1);

    assert.equal(await k().ok(['create', '-f', await manifest('slow.yaml', podYaml('slow', 'slow'))]), 'pod/slow created\n');
    await core.createNamespacedBinding({ namespace: 'default', body: {
      metadata: { name: 'slow' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' },
    } });
    assert.equal(await k().ok(['delete', 'pod', 'slow', '--wait=false']), 'pod "slow" deleted\n');
    const terminating = parseColumns(await k().ok(['get', 'pod', 'slow', '-o', 'wide']));
    assert.deepEqual([terminating[1]?.[0], terminating[1]?.[2], terminating[1]?.[6]], ['slow', 'Terminating', 'node-a']);
    const pod = await core.readNamespacedPod({ name: 'slow', namespace: 'default' });
    assert.equal(pod.metadata?.deletionGracePeriodSeconds, 30);
    assert.ok(pod.metadata?.deletionTimestamp);

    const forced = await k().run(['delete', 'pod', 'slow', '--grace-period=0', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout, 'pod "slow" force deleted\n');
    assert.match(forced.stderr, /Immediate deletion does not wait for confirmation/);
    assert.equal((await k().run(['get', 'pod', 'slow'])).stderr, 'Error from server (NotFound): pods "slow" not found\n');
  });

  test('create namespace', async () => {
    assert.equal(await k().ok(['create', 'namespace', 'x']), 'namespace/x created\n');
    const rows = parseColumns(await k().ok(['get', 'namespace', 'x']));
    assert.deepEqual(rows[0], ['NAME', 'STATUS', 'AGE']);
    assert.deepEqual(rows[1]?.slice(0, 2), ['x', 'Active']);
  });

  test('explain pod.spec.containers', async () => {
    const out = await k().ok(['explain', 'pod.spec.containers']);
    assert.match(out, /^KIND:\s+Pod$/m);
    assert.match(out, /^VERSION:\s+v1$/m);
    assert.match(out, /^FIELD: containers <\[\]Container>$/m);
    assert.match(out, /^DESCRIPTION:$/m);
    assert.match(out, /^ {2}image\t<string>$/m);
    assert.match(out, /^ {2}name\t<string> -required-$/m);
    assert.match(out, /^ {2}ports\t<\[\]ContainerPort>$/m);
  });

  test('api-resources lists the served resources', async () => {
    const rows = parseColumns(await k().ok(['api-resources']));
    assert.deepEqual(rows[0], ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
    // core/v1 rows (metrics.k8s.io also serves `pods` and `nodes`, as on a real cluster with metrics-server).
    const byName = new Map(rows.slice(1).filter((row) => !row.includes('metrics.k8s.io/v1beta1')).map((row) => [row[0], row]));
    assert.deepEqual(byName.get('pods'), ['pods', 'po', 'v1', 'true', 'Pod']);
    assert.deepEqual(byName.get('nodes'), ['nodes', 'no', 'v1', 'false', 'Node']);
    assert.deepEqual(byName.get('namespaces'), ['namespaces', 'ns', 'v1', 'false', 'Namespace']);
    // core/v1 and events.k8s.io/v1 both serve events, as on a real cluster.
    assert.deepEqual(rows.filter((row) => row[0] === 'events'), [['events', 'ev', 'v1', 'true', 'Event'], ['events', 'ev', 'events.k8s.io/v1', 'true', 'Event']]);
    assert.deepEqual(byName.get('leases'), ['leases', 'coordination.k8s.io/v1', 'true', 'Lease']);
  });

  test('error wording: NotFound and AlreadyExists', async () => {
    const missing = await k().run(['get', 'pods', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, 'Error from server (NotFound): pods "nope" not found\n');

    const file = await manifest('dup.yaml', podYaml('dup', 'dup'));
    assert.equal(await k().ok(['create', '-f', file]), 'pod/dup created\n');
    const again = await k().run(['create', '-f', file]);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `Error from server (AlreadyExists): error when creating "${file}": pods "dup" already exists\n`);
  });
});
