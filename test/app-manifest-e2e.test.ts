// A real multi-service application manifest (test/fixtures/storefront.yaml: thirteen Deployments, each with its own
// ServiceAccount and Service, gRPC/HTTP/exec/TCP probes, env from ConfigMaps and Secrets, resource requests) applied
// with the real `kubectl apply -f` against `kubefacade up`, with the ServiceAccount admission plugin on as in a real
// cluster: every Deployment becomes Available, every Service's Endpoints and EndpointSlices hold exactly its ready
// pods' IPs on the right ports, the containers see their ConfigMaps, Secrets and token, and pods whose service account
// is not there yet are refused and created by the controllers once it is.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kubectl } from './helpers/kubectl.ts';
import { eventually, startCli, type CliProcess } from './helpers/cluster-processes.ts';

const MANIFEST = join(import.meta.dirname, 'fixtures', 'storefront.yaml');
const NS = 'storefront';

interface Port { name?: string; port: number; targetPort?: number | string; containerPort?: number; protocol?: string }
interface PodItem {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { containers: { ports?: Port[] }[]; imagePullSecrets?: { name: string }[]; serviceAccountName?: string; volumes?: { name: string }[] };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}
interface ServiceItem { metadata: { name: string }; spec: { selector: Record<string, string>; ports: Port[]; type: string } }
interface EndpointsItem { subsets?: { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[]; ports?: Port[] }[] }
interface SliceItem {
  metadata: { labels?: Record<string, string> };
  addressType: string;
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
  ports?: Port[];
}

const isReady = (pod: PodItem): boolean => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}): boolean =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** The port a Service's targetPort resolves to on a pod (by number, or by the container port's name). */
function targetPortOn(pod: PodItem, port: Port): number {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  const named = pod.spec.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target);
  assert.ok(named, `pod ${pod.metadata.name} has no port named ${target}`);
  return named.containerPort!;
}

describe('a multi-service application manifest with kubectl apply against kubefacade up', () => {
  let dataDir: string;
  let up: CliProcess;
  let kubectl: Kubectl;
  const getJson = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl.ok([...args, '-o', 'json'])) as T;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-app-manifest-'));
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--kubelet-port', '0', '--nodes', '3', '--image-pull-delay', '100ms']);
    const [, kubeconfigPath] = await up.waitForOutput(/kubectl --kubeconfig (\S+) get nodes/, 120_000);
    kubectl = await Kubectl.create(kubeconfigPath);
  });

  after(async () => {
    await kubectl?.dispose();
    await up?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('kubectl apply creates every object; every Deployment becomes Available', async () => {
    const applied = await kubectl.ok(['apply', '-f', MANIFEST], { timeoutMs: 120_000 });
    const lines = applied.trim().split('\n');
    assert.ok(lines.every((line) => line.endsWith(' created')), applied);
    assert.equal(lines.filter((line) => line.startsWith('deployment.apps/')).length, 13);
    assert.equal(lines.filter((line) => line.startsWith('serviceaccount/')).length, 13);
    assert.equal(lines.filter((line) => line.startsWith('service/')).length, 14);

    const waited = await kubectl.ok(['wait', '-n', NS, '--for=condition=available', 'deployment', '--all', '--timeout=180s'], { timeoutMs: 200_000 });
    assert.equal(waited.trim().split('\n').filter((line) => / condition met$/.test(line)).length, 13, waited);
    const deployments = await getJson<{ items: { metadata: { name: string }; spec: { replicas: number }; status: { availableReplicas?: number } }[] }>(['get', 'deployments', '-n', NS]);
    for (const deployment of deployments.items) {
      assert.equal(deployment.status.availableReplicas, deployment.spec.replicas, deployment.metadata.name);
    }

    // Applying the same manifest again changes nothing: defaulting and the last-applied state agree. kubectl's
    // client-side three-way merge still reports two kinds of `configured` that a real cluster shows too: Secrets
    // written with stringData (write-only, so never in the live object; kubectl sends it again), and a Deployment
    // whose strategy sets rollingUpdate without type (kubectl always sends the retainKeys directive of that map:
    // {"spec":{"strategy":{"$retainKeys":["rollingUpdate"]}}}).
    const again = (await kubectl.ok(['apply', '-f', MANIFEST], { timeoutMs: 120_000 })).trim().split('\n');
    assert.deepEqual(again.filter((line) => !line.endsWith(' unchanged')), [
      'secret/payments-credentials configured', 'secret/reviews-database configured', 'secret/registry-credentials configured',
      'deployment.apps/reviews configured',
    ]);
  });

  test('every Service has Endpoints and EndpointSlices with exactly its ready pods\' IPs on its target ports', async () => {
    const services = (await getJson<{ items: ServiceItem[] }>(['get', 'services', '-n', NS])).items;
    assert.equal(services.length, 14);
    await eventually('every service to list its ready pods', async () => {
      const pods = (await getJson<{ items: PodItem[] }>(['get', 'pods', '-n', NS])).items;
      const slices = (await getJson<{ items: SliceItem[] }>(['get', 'endpointslices', '-n', NS])).items;
      for (const service of services) {
        const name = service.metadata.name;
        const backing = pods.filter((pod) => isReady(pod) && matches(service.spec.selector, pod.metadata.labels));
        if (backing.length === 0) return undefined;
        const ips = backing.map((pod) => pod.status.podIP!).sort();
        const endpoints = await getJson<EndpointsItem>(['get', 'endpoints', name, '-n', NS]);
        const subset = endpoints.subsets?.[0];
        if (!subset || endpoints.subsets!.length !== 1) return undefined;
        if (JSON.stringify((subset.addresses ?? []).map((a) => a.ip).sort()) !== JSON.stringify(ips)) return undefined;
        assert.equal(subset.notReadyAddresses, undefined, name);
        const expectedPorts = service.spec.ports.map((port) => `${port.name}:${targetPortOn(backing[0], port)}`).sort();
        assert.deepEqual((subset.ports ?? []).map((p) => `${p.name}:${p.port}`).sort(), expectedPorts, name);

        const own = slices.filter((slice) => slice.metadata.labels?.['kubernetes.io/service-name'] === name);
        if (own.length !== 1) return undefined;
        const [slice] = own;
        assert.equal(slice.addressType, 'IPv4');
        assert.equal(slice.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
        const sliceIps = (slice.endpoints ?? []).filter((e) => e.conditions?.ready === true).flatMap((e) => e.addresses).sort();
        if (JSON.stringify(sliceIps) !== JSON.stringify(ips)) return undefined;
        assert.deepEqual((slice.ports ?? []).map((p) => `${p.name}:${p.port}`).sort(), expectedPorts, name);
      }
      return true;
    }, 60_000);
  });

  test('the containers see their ConfigMaps, Secrets, projected token and their account\'s pull secret', async () => {
    const env = await kubectl.ok(['exec', '-n', NS, 'deploy/payments', '--', 'env']);
    assert.match(env, /^PAYMENTS_API_KEY=sk_test_storefront_0123456789$/m);
    assert.match(env, /^MERCHANT_ID=storefront-demo$/m);
    const reviews = await kubectl.ok(['exec', '-n', NS, 'deploy/reviews', '--', 'env']);
    assert.match(reviews, /^DB_username=reviews$/m);
    assert.match(reviews, /^DB_password=not-a-real-password$/m);
    const checkout = await kubectl.ok(['exec', '-n', NS, 'deploy/checkout', '--', 'env']);
    assert.match(checkout, /^CATALOG_ADDR=catalog:3550$/m);
    assert.match(checkout, /^SETTINGS_currency=EUR$/m);
    // `-` and `.` are allowed in variable names (validation.IsEnvVarName), so a file-like key becomes one too.
    assert.match(checkout, /^SETTINGS_cart-store\.conf=maxmemory 128mb$/m);
    assert.equal(await kubectl.ok(['exec', '-n', NS, 'deploy/cart-store', '--', 'cat', '/etc/cart-store/cart-store.conf']),
      'maxmemory 128mb\nmaxmemory-policy allkeys-lru\nappendonly no\n');

    const frontend = (await getJson<{ items: PodItem[] }>(['get', 'pods', '-n', NS, '-l', 'app=frontend'])).items[0];
    assert.deepEqual(frontend.spec.imagePullSecrets, [{ name: 'registry-credentials' }]);
    const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
    assert.deepEqual((await kubectl.ok(['exec', '-n', NS, frontend.metadata.name, '--', 'ls', dir])).trim().split(/\s+/), ['ca.crt', 'namespace', 'token']);
    assert.equal(await kubectl.ok(['exec', '-n', NS, frontend.metadata.name, '--', 'cat', `${dir}/namespace`]), NS);
    const token = await kubectl.ok(['exec', '-n', NS, frontend.metadata.name, '--', 'cat', `${dir}/token`]);
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { sub: string; 'kubernetes.io': { pod?: { name: string } } };
    assert.equal(claims.sub, 'system:serviceaccount:storefront:frontend');
    assert.equal(claims['kubernetes.io'].pod?.name, frontend.metadata.name);
    // The token works as the pod's identity.
    assert.equal(await kubectl.ok(['--token', token, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']), 'system:serviceaccount:storefront:frontend');

    // cart-store's account opts out of the token.
    const store = (await getJson<{ items: PodItem[] }>(['get', 'pods', '-n', NS, '-l', 'app=cart-store'])).items[0];
    assert.deepEqual((store.spec.volumes ?? []).map((v) => v.name).sort(), ['data', 'settings']);
  });

  test('a pod that stops being ready leaves its service\'s ready endpoints and comes back', async () => {
    const pods = (await getJson<{ items: PodItem[] }>(['get', 'pods', '-n', NS, '-l', 'app=reviews'])).items;
    assert.equal(pods.length, 2);
    const [victim] = pods;
    const readyIps = async (): Promise<string[]> => {
      const slices = (await getJson<{ items: SliceItem[] }>(['get', 'endpointslices', '-n', NS, '-l', 'kubernetes.io/service-name=reviews'])).items;
      return slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready === true).flatMap((e) => e.addresses).sort();
    };
    await kubectl.ok(['annotate', 'pod', '-n', NS, victim.metadata.name, 'kubefacade.io/fail-probes=readiness']);
    await eventually('the unready pod to leave the ready endpoints', async () => {
      const ips = await readyIps();
      return ips.length === 1 && !ips.includes(victim.status.podIP!) ? ips : undefined;
    });
    const endpoints = await getJson<EndpointsItem>(['get', 'endpoints', 'reviews', '-n', NS]);
    assert.deepEqual(endpoints.subsets?.[0].notReadyAddresses?.map((a) => a.ip), [victim.status.podIP]);
    await kubectl.ok(['annotate', 'pod', '-n', NS, victim.metadata.name, 'kubefacade.io/fail-probes-']);
    await eventually('the pod to be ready again', async () => ((await readyIps()).length === 2 ? true : undefined));
  });

  test('with the ServiceAccount plugin on, pods wait for their account: refused until it exists, then created by the controllers', async () => {
    // A namespace and a Deployment on its `default` account in one apply: the plugin waits for the controller's account.
    const fresh = [
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: fresh}',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: fresh}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n'
        + '  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx:1.27}]',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: bare, namespace: fresh}\nspec:\n  containers: [{name: app, image: busybox, command: [sleep, "3600"]}]',
    ].join('\n---\n');
    await kubectl.ok(['apply', '-f', '-'], { input: fresh });
    await kubectl.ok(['wait', '-n', 'fresh', '--for=condition=available', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(await kubectl.ok(['get', 'pod', 'bare', '-n', 'fresh', '-o', 'jsonpath={.spec.serviceAccountName}']), 'default');

    // A Deployment naming an account that does not exist yet: its ReplicaSet's creates are refused with upstream's
    // message (a FailedCreate event) and retried; once the account exists the pods are created.
    const late = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker, namespace: fresh}\nspec:\n  replicas: 2\n'
      + '  selector: {matchLabels: {app: worker}}\n  template:\n    metadata: {labels: {app: worker}}\n'
      + '    spec:\n      serviceAccountName: late\n      containers: [{name: worker, image: busybox, command: [sleep, "3600"]}]';
    await kubectl.ok(['apply', '-f', '-'], { input: late });
    const failed = await eventually('a FailedCreate event', async () => {
      const events = await kubectl.ok(['get', 'events', '-n', 'fresh', '--field-selector', 'reason=FailedCreate', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
      return events.trim() === '' ? undefined : events;
    });
    assert.match(failed, /Error creating: pods "worker-[a-z0-9]+-[a-z0-9]+" is forbidden: error looking up service account fresh\/late: serviceaccount "late" not found/);
    assert.equal(await kubectl.ok(['get', 'pods', '-n', 'fresh', '-l', 'app=worker', '-o', 'name']), '');
    await kubectl.ok(['create', 'serviceaccount', 'late', '-n', 'fresh']);
    await kubectl.ok(['wait', '-n', 'fresh', '--for=condition=available', 'deployment/worker', '--timeout=90s'], { timeoutMs: 100_000 });
    const workers = (await getJson<{ items: PodItem[] }>(['get', 'pods', '-n', 'fresh', '-l', 'app=worker'])).items;
    assert.equal(workers.length, 2);
    assert.ok(workers.every((pod) => pod.spec.serviceAccountName === 'late'));
  });
});
