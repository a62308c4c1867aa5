// Conformance entries of sig-cli that concern ReplicationControllers, Deployments and Services, run with the real
// kubectl against `up`'s cluster (two simulated nodes, the controllers, the scheduler). Each test works in its own
// namespace, with the manifests the e2e tests use (agnhost, update-demo, guestbook). What those e2e tests then read
// from inside the containers (update-demo's data.json, the guestbook's stored entry, through the pod and service
// proxies) needs real processes and traffic, which kubefacade does not run: those reads are not done here.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kubectl } from '../helpers/kubectl.ts';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';
const NAUTILUS = 'registry.k8s.io/e2e-test-images/nautilus:1.7';
const HTTPD = 'registry.k8s.io/e2e-test-images/httpd:2.4.38-4';
const BUSYBOX = 'registry.k8s.io/e2e-test-images/busybox:1.36.1-1';

const agnhostPrimaryController = {
  kind: 'ReplicationController', apiVersion: 'v1',
  metadata: { name: 'agnhost-primary', labels: { app: 'agnhost', role: 'primary' } },
  spec: {
    replicas: 1, selector: { app: 'agnhost', role: 'primary' },
    template: {
      metadata: { labels: { app: 'agnhost', role: 'primary' } },
      spec: { containers: [{ name: 'agnhost-primary', image: AGNHOST, ports: [{ name: 'agnhost-server', containerPort: 6379 }] }] },
    },
  },
};
const agnhostPrimaryService = {
  kind: 'Service', apiVersion: 'v1',
  metadata: { name: 'agnhost-primary', labels: { app: 'agnhost', role: 'primary' } },
  spec: { ports: [{ port: 6379, targetPort: 'agnhost-server' }], selector: { app: 'agnhost', role: 'primary' } },
};
const updateDemo = {
  apiVersion: 'v1', kind: 'ReplicationController',
  metadata: { name: 'update-demo-nautilus' },
  spec: {
    replicas: 2, selector: { name: 'update-demo', version: 'nautilus' },
    template: {
      metadata: { labels: { name: 'update-demo', version: 'nautilus' } },
      spec: { containers: [{ name: 'update-demo', image: NAUTILUS, ports: [{ containerPort: 80, protocol: 'TCP' }] }] },
    },
  },
};

function deployment(name: string, labels: Record<string, string>, replicas: number, container: Json): Json {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [container] } } },
  };
}
function service(name: string, labels: Record<string, string>, port: number, type?: string): Json {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec: { ...(type ? { type } : {}), ports: [{ port }], selector: labels } };
}
const list = (...items: Json[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

describe('conformance: kubectl with controllers and services', () => {
  let c: ConformanceCluster;
  let kubectl: Kubectl;
  before(async () => {
    c = await startConformanceCluster('cli-kubectl', { nodes: 2 });
    kubectl = await Kubectl.create(c.kubeconfigPath);
  });
  after(async () => {
    await kubectl?.dispose();
    await c?.stop();
  });

  let namespaces = 0;
  const namespace = async (): Promise<string> => {
    const name = `kubectl-${++namespaces}`;
    await kubectl.ok(['create', 'namespace', name]);
    return name;
  };
  /** Names of the running pods with this label selector, once there are exactly `count` of them and no others. */
  const runningPods = (ns: string, selector: string, count: number) => until(async () => {
    const pods = JSON.parse(await kubectl.ok(['get', 'pods', '-n', ns, '-l', selector, '-o', 'json'])).items as Json[];
    const running = pods.filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    return pods.length === count && running.length === count ? running.map((p) => p.metadata.name as string).sort() : undefined;
  }, `${count} running pods ${selector} in ${ns}`, 60_000);

  test('Kubectl, cluster info', async () => {
    const out = await kubectl.ok(['cluster-info']);
    assert.match(out, new RegExp(`Kubernetes control plane.* is running at .*${c.server.url.replace(/[.]/g, '\\.')}`));
  });

  test('Kubectl, describe pod or rc', async () => {
    const ns = await namespace();
    await kubectl.ok(['create', '-n', ns, '-f', '-'], { input: JSON.stringify(agnhostPrimaryController) });
    await kubectl.ok(['create', '-n', ns, '-f', '-'], { input: JSON.stringify(agnhostPrimaryService) });
    const [podName] = await runningPods(ns, 'app=agnhost', 1);
    const pod = JSON.parse(await kubectl.ok(['get', 'pod', '-n', ns, podName, '-o', 'json']));

    const describePod = await kubectl.ok(['describe', 'pod', '-n', ns, podName]);
    for (const line of [
      new RegExp(`^Name:\\s+${podName}$`), new RegExp(`^Namespace:\\s+${ns}$`), new RegExp(`^Node:\\s+${pod.spec.nodeName}/`),
      /^Labels:\s+app=agnhost$/, /^\s+role=primary$/, /^Annotations:/, /^Status:\s+Running$/, new RegExp(`^IP:\\s+${pod.status.podIP.replace(/\./g, '\\.')}$`),
      /^Controlled By:\s+ReplicationController\/agnhost-primary$/, new RegExp(`^\\s+Image:\\s+${AGNHOST.replace(/\./g, '\\.')}$`), /^\s+State:\s+Running$/,
      /^QoS Class:\s+BestEffort$/, /^Events:/,
    ]) assert.match(describePod, new RegExp(line.source, 'm'));

    const describeRc = await kubectl.ok(['describe', 'rc', '-n', ns, 'agnhost-primary']);
    for (const line of [
      /^Name:\s+agnhost-primary$/, new RegExp(`^Namespace:\\s+${ns}$`), /^Selector:\s+app=agnhost,role=primary$/, /^Labels:\s+app=agnhost$/,
      /^Replicas:\s+1 current \/ 1 desired$/, /^Pods Status:\s+1 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/,
      new RegExp(`SuccessfulCreate\\s+\\S+\\s+replication-controller\\s+Created pod: ${podName}`),
    ]) assert.match(describeRc, new RegExp(line.source, 'm'));

    const endpointsIp = pod.status.podIP.replace(/\./g, '\\.');
    const describeSvc = await until(async () => {
      const out = await kubectl.ok(['describe', 'service', '-n', ns, 'agnhost-primary']);
      return new RegExp(`^Endpoints:\\s+${endpointsIp}:6379$`, 'm').test(out) ? out : undefined;
    }, 'the service\'s endpoints in describe');
    for (const line of [
      /^Name:\s+agnhost-primary$/, new RegExp(`^Namespace:\\s+${ns}$`), /^Labels:\s+app=agnhost$/, /^\s+role=primary$/,
      /^Selector:\s+app=agnhost,role=primary$/, /^Type:\s+ClusterIP$/, /^IP:\s+10\./, /^Port:\s+<unset>\s+6379\/TCP$/,
      /^TargetPort:\s+agnhost-server\/TCP$/, /^Session Affinity:\s+None$/,
    ]) assert.match(describeSvc, new RegExp(line.source, 'm'));

    const describeNode = await kubectl.ok(['describe', 'node', pod.spec.nodeName]);
    for (const line of [
      new RegExp(`^Name:\\s+${pod.spec.nodeName}$`), /^Labels:/, /^CreationTimestamp:/, /^Conditions:/, /^Addresses:/, /^Capacity:/,
      /^\s+Kernel Version:/, /^\s+OS Image:/, /^\s+Container Runtime Version:/, /^\s+Kubelet Version:/, /^Non-terminated Pods:/,
    ]) assert.match(describeNode, new RegExp(line.source, 'm'));
    assert.match(describeNode, new RegExp(`${ns}\\s+${podName}`));

    const describeNs = await kubectl.ok(['describe', 'namespace', ns]);
    for (const line of [new RegExp(`^Name:\\s+${ns}$`), /^Labels:\s+kubernetes.io\/metadata.name=/, /^Status:\s+Active$/]) assert.match(describeNs, new RegExp(line.source, 'm'));
  });

  test('Kubectl, create service, replication controller', async () => {
    const ns = await namespace();
    await kubectl.ok(['create', '-n', ns, '-f', '-'], { input: JSON.stringify(agnhostPrimaryController) });
    const [podName] = await runningPods(ns, 'app=agnhost', 1);
    const podIp = JSON.parse(await kubectl.ok(['get', 'pod', '-n', ns, podName, '-o', 'json'])).status.podIP as string;
    /** The service has the port and target port asked for, and its endpoints name the pod on 6379. */
    const validateService = async (name: string, port: number) => {
      const svc = JSON.parse(await kubectl.ok(['get', 'service', '-n', ns, name, '-o', 'json']));
      assert.deepEqual(svc.spec.ports.map((p: Json) => [p.port, p.targetPort]), [[port, 6379]]);
      assert.deepEqual(svc.spec.selector, { app: 'agnhost', role: 'primary' });
      await until(async () => {
        const ep = JSON.parse(await kubectl.ok(['get', 'endpoints', '-n', ns, name, '-o', 'json']));
        const subset = ep.subsets?.[0];
        return subset?.addresses?.[0]?.ip === podIp && subset.ports[0].port === 6379 ? true : undefined;
      }, `endpoints of ${name}`);
    };
    assert.match(await kubectl.ok(['expose', 'rc', 'agnhost-primary', '-n', ns, '--name=rm2', '--port=1234', '--target-port=6379']), /service\/rm2 exposed/);
    await validateService('rm2', 1234);
    assert.match(await kubectl.ok(['expose', 'service', 'rm2', '-n', ns, '--name=rm3', '--port=2345', '--target-port=6379']), /service\/rm3 exposed/);
    await validateService('rm3', 2345);
  });

  test('Kubectl, patch to annotate', async () => {
    const ns = await namespace();
    await kubectl.ok(['create', '-n', ns, '-f', '-'], { input: JSON.stringify(agnhostPrimaryController) });
    const pods = await runningPods(ns, 'app=agnhost', 1);
    for (const pod of pods) await kubectl.ok(['patch', 'pod', pod, '-n', ns, '-p', '{"metadata":{"annotations":{"x":"y"}}}']);
    const items = JSON.parse(await kubectl.ok(['get', 'pods', '-n', ns, '-l', 'app=agnhost', '-o', 'json'])).items as Json[];
    assert.equal(items.length, 1);
    for (const pod of items) assert.equal(pod.metadata.annotations?.x, 'y', pod.metadata.name);
  });

  const podTemplate = '{{range.items}}{{.metadata.name}} {{end}}';
  const imageTemplate = (container: string) => `{{if (exists . "status" "containerStatuses")}}{{range .status.containerStatuses}}{{if (and (eq .name "${container}") (exists . "state" "running"))}}{{.image}}{{end}}{{end}}{{end}}`;
  /** validateController: `replicas` running pods of update-demo, each running the nautilus image (read as the e2e test does). */
  const validateUpdateDemo = async (ns: string, replicas: number) => {
    const names = await runningPods(ns, 'name=update-demo', replicas);
    assert.deepEqual((await kubectl.ok(['get', 'pods', '-n', ns, '-l', 'name=update-demo', '-o', `template=${podTemplate}`])).trim().split(' ').sort(), names);
    for (const name of names) {
      const image = await kubectl.ok(['get', 'pods', name, '-n', ns, '-o', `template=${imageTemplate('update-demo')}`]);
      assert.equal(image, NAUTILUS);
    }
  };

  test('Kubectl, replication controller', async () => {
    const ns = await namespace();
    await kubectl.ok(['create', '-n', ns, '-f', '-'], { input: JSON.stringify(updateDemo) });
    await validateUpdateDemo(ns, 2);
    // "stop": a forced delete of what was created, then nothing of it is left.
    const out = await kubectl.run(['delete', '-n', ns, '--grace-period=0', '--force', '-f', '-'], { input: JSON.stringify(updateDemo) });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /replicationcontroller "update-demo-nautilus" force deleted/);
    await until(async () => {
      const rcs = (await kubectl.ok(['get', 'rc,svc', '-n', ns, '-l', 'name=update-demo', '--no-headers'])).trim();
      const pods = (await kubectl.ok(['get', 'pods', '-n', ns, '-l', 'name=update-demo', '-o', 'go-template={{ range .items }}{{ if not .metadata.deletionTimestamp }}{{ .metadata.name }}{{ "\\n" }}{{ end }}{{ end }}'])).trim();
      return rcs === '' && pods === '' ? true : undefined;
    }, 'update-demo gone');
  });

  test('Kubectl, scale replication controller', async () => {
    const ns = await namespace();
    await kubectl.ok(['create', '-n', ns, '-f', '-'], { input: JSON.stringify(updateDemo) });
    await validateUpdateDemo(ns, 2);
    assert.match(await kubectl.ok(['scale', 'rc', 'update-demo-nautilus', '-n', ns, '--replicas=1', '--timeout=5m']), /replicationcontroller\/update-demo-nautilus scaled/);
    await validateUpdateDemo(ns, 1);
    await kubectl.ok(['scale', 'rc', 'update-demo-nautilus', '-n', ns, '--replicas=2', '--timeout=5m']);
    await validateUpdateDemo(ns, 2);
  });

  test('Kubectl, diff Deployment', async () => {
    const ns = await namespace();
    const declared = (image: string) => JSON.stringify({
      ...deployment('httpd-deployment', { app: 'httpd' }, 1, { name: 'httpd', image }), metadata: { name: 'httpd-deployment', namespace: ns },
    });
    await kubectl.ok(['create', '-f', '-'], { input: declared(HTTPD) });
    await kubectl.ok(['rollout', 'status', '-n', ns, 'deployment/httpd-deployment', '--timeout=60s']);
    // The same manifest: no difference (retried, as a status write of the controllers between kubectl's read and its
    // dry run shows as one).
    let same = { code: -1 as number | null, stdout: '', stderr: '' };
    await until(async () => {
      same = await kubectl.run(['diff', '-f', '-'], { input: declared(HTTPD) });
      return same.code === 0 ? true : undefined;
    }, 'no difference for the live manifest').catch(() => assert.fail(`kubectl diff exited ${same.code}: ${same.stdout}${same.stderr}`));
    const diff = await kubectl.run(['diff', '-f', '-'], { input: declared(BUSYBOX) });
    // kubectl diff exits 1 when it found differences.
    assert.equal(diff.code, 1, diff.stderr);
    assert.match(diff.stdout, new RegExp(`^-\\s+- image: ${HTTPD.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(diff.stdout, new RegExp(`^\\+\\s+- image: ${BUSYBOX.replace(/\./g, '\\.')}$`, 'm'));
    // A diff is a dry run: the live Deployment is unchanged.
    const live = JSON.parse(await kubectl.ok(['get', 'deployment', '-n', ns, 'httpd-deployment', '-o', 'json']));
    assert.equal(live.spec.template.spec.containers[0].image, HTTPD);
  });

  test('Kubectl, guestbook application', async () => {
    const ns = await namespace();
    const frontend = { app: 'guestbook', tier: 'frontend' };
    const primary = { app: 'agnhost', role: 'primary', tier: 'backend' };
    const replica = { app: 'agnhost', role: 'replica', tier: 'backend' };
    const manifests = [
      service('agnhost-replica', replica, 6379),
      service('agnhost-primary', primary, 6379),
      service('frontend', frontend, 80),
      deployment('frontend', frontend, 3, { name: 'guestbook-frontend', image: AGNHOST, args: ['guestbook', '--backend-port', '6379'], resources: { requests: { cpu: '100m', memory: '100Mi' } }, ports: [{ containerPort: 80 }] }),
      deployment('agnhost-primary', primary, 1, { name: 'primary', image: AGNHOST, args: ['guestbook', '--http-port', '6379'], resources: { requests: { cpu: '100m', memory: '100Mi' } }, ports: [{ containerPort: 6379 }] }),
      deployment('agnhost-replica', replica, 2, { name: 'replica', image: AGNHOST, args: ['guestbook', '--replicaof', 'agnhost-primary', '--http-port', '6379'], resources: { requests: { cpu: '100m', memory: '100Mi' } }, ports: [{ containerPort: 6379 }] }),
    ];
    const created = await kubectl.ok(['create', '-n', ns, '-f', '-'], { input: list(...manifests) });
    for (const name of ['service/agnhost-replica', 'service/agnhost-primary', 'service/frontend', 'deployment.apps/frontend', 'deployment.apps/agnhost-primary', 'deployment.apps/agnhost-replica']) {
      assert.match(created, new RegExp(`^${name.replace('.', '\\.')} created$`, 'm'));
    }
    for (const name of ['frontend', 'agnhost-primary', 'agnhost-replica']) {
      assert.match(await kubectl.ok(['rollout', 'status', '-n', ns, `deployment/${name}`, '--timeout=90s']), new RegExp(`deployment "${name}" successfully rolled out`));
    }
    await runningPods(ns, 'app=guestbook,tier=frontend', 3);
    // Each service selects its pods: the frontend's three, the primary's one, the replicas' two, ready, on their ports.
    for (const [name, count, port] of [['frontend', 3, 80], ['agnhost-primary', 1, 6379], ['agnhost-replica', 2, 6379]] as const) {
      await until(async () => {
        const ep = JSON.parse(await kubectl.ok(['get', 'endpoints', '-n', ns, name, '-o', 'json']));
        const subset = ep.subsets?.[0];
        return subset?.addresses?.length === count && !subset.notReadyAddresses && subset.ports[0].port === port ? true : undefined;
      }, `${count} ready endpoints of ${name}`, 60_000);
    }
    // "stop": the forced delete of every manifest removes the services, the deployments and, through the garbage
    // collector, their ReplicaSets and pods.
    const deleted = await kubectl.run(['delete', '-n', ns, '--grace-period=0', '--force', '-f', '-'], { input: list(...manifests) });
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stderr, /Immediate deletion does not wait for confirmation/);
    await until(async () => {
      const left = (await kubectl.ok(['get', 'deployments,replicasets,services,pods', '-n', ns, '--no-headers', '--ignore-not-found'])).trim();
      return left === '' ? true : undefined;
    }, 'the guestbook gone', 60_000);
  });
});
