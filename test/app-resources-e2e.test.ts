// What an application manifest holds, driven by the real kubectl against `kubefacade up`: ConfigMaps,
// Secrets, ServiceAccounts and their tokens (as bearer tokens, with RBAC, until the account is deleted),
// the default account of a new namespace, Services (create service, expose, cluster-info) and the
// EndpointSlices the controller keeps from ready pods.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kubectl, parseColumns } from './helpers/kubectl.ts';
import { eventually, ipInCidr, startCli, type CliProcess } from './helpers/cluster-processes.ts';

describe('application resources with kubectl against kubefacade up', () => {
  let dataDir: string;
  let up: CliProcess;
  let kubectl: Kubectl;
  let serverUrl: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-app-e2e-'));
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--kubelet-port', '0', '--nodes', '1', '--image-pull-delay', '100ms']);
    [, serverUrl] = await up.waitForOutput(/kubefacade is up: API server (https:\/\/127\.0\.0\.1:\d+), nodes (.+)\n/);
    const [, kubeconfigPath] = await up.waitForOutput(/kubectl --kubeconfig (\S+) get nodes/);
    kubectl = await Kubectl.create(kubeconfigPath);
  });

  after(async () => {
    await kubectl?.dispose();
    await up?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('create configmap and secret; get shows their data counts', async () => {
    assert.equal(await kubectl.ok(['create', 'configmap', 'app', '--from-literal=mode=prod', '--from-literal=level=debug']), 'configmap/app created\n');
    assert.equal(await kubectl.ok(['create', 'secret', 'generic', 'db', '--from-literal=password=s3cret']), 'secret/db created\n');
    const [cmHeader, cm] = parseColumns(await kubectl.ok(['get', 'cm', 'app']));
    assert.deepEqual([cmHeader, cm.slice(0, 2)], [['NAME', 'DATA', 'AGE'], ['app', '2']]);
    const [secretHeader, secret] = parseColumns(await kubectl.ok(['get', 'secret', 'db']));
    assert.deepEqual([secretHeader, secret.slice(0, 3)], [['NAME', 'TYPE', 'DATA', 'AGE'], ['db', 'Opaque', '1']]);
    assert.equal(Buffer.from(await kubectl.ok(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']), 'base64').toString(), 's3cret');
    const bad = await kubectl.run(['create', 'configmap', 'bad', '--from-literal=a b=1']);
    assert.notEqual(bad.code, 0);
  });

  test('a new namespace gets its default service account', async () => {
    await kubectl.ok(['create', 'namespace', 'team']);
    const row = await eventually('default service account in team', async () => {
      const result = await kubectl.run(['get', 'sa', '-n', 'team']);
      return result.code === 0 && /^default\s/m.test(result.stdout) ? result.stdout : undefined;
    });
    assert.deepEqual(parseColumns(row)[0], ['NAME', 'SECRETS', 'AGE']);
  });

  test('create token: a bearer token for kubectl, governed by RoleBindings, dead once the account is deleted', async () => {
    assert.equal(await kubectl.ok(['create', 'serviceaccount', 'bot']), 'serviceaccount/bot created\n');
    const token = (await kubectl.ok(['create', 'token', 'bot', '--duration', '20m'])).trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.sub, 'system:serviceaccount:default:bot');
    assert.equal(Number(claims.exp) - Number(claims.iat), 1200);

    assert.equal(await kubectl.ok(['--token', token, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']), 'system:serviceaccount:default:bot');
    assert.equal((await kubectl.run(['auth', 'can-i', 'list', 'configmaps', '--as=system:serviceaccount:default:bot'])).stdout, 'no\n');
    await kubectl.ok(['create', 'role', 'cm-reader', '--verb=get,list', '--resource=configmaps']);
    await kubectl.ok(['create', 'rolebinding', 'bot-reads', '--role=cm-reader', '--serviceaccount=default:bot']);
    assert.equal(await kubectl.ok(['auth', 'can-i', 'list', 'configmaps', '--as=system:serviceaccount:default:bot']), 'yes\n');
    assert.equal(await kubectl.ok(['--token', token, 'auth', 'can-i', 'list', 'configmaps']), 'yes\n');
    assert.match(await kubectl.ok(['--token', token, 'get', 'configmaps']), /^app\s/m);

    await kubectl.ok(['delete', 'serviceaccount', 'bot']);
    const refused = await eventually('the token to be refused', async () => {
      const result = await kubectl.run(['--token', token, 'get', 'configmaps']);
      return result.code !== 0 ? result : undefined;
    });
    assert.match(refused.stderr, /Unauthorized|must be logged in/);
    const missing = await kubectl.run(['create', 'token', 'bot']);
    assert.match(missing.stderr, /serviceaccounts "bot" not found/);
  });

  test('a pod with env from a missing Secret waits in CreateContainerConfigError, then runs once the Secret exists', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Pod
metadata:
  name: needs-secret
spec:
  containers:
  - name: app
    image: nginx:1.27
    env:
    - name: PASSWORD
      valueFrom:
        secretKeyRef:
          name: later
          key: password
    envFrom:
    - configMapRef:
        name: app
` });
    const waiting = await eventually('CreateContainerConfigError', async () => {
      const out = await kubectl.ok(['get', 'pod', 'needs-secret']);
      return /needs-secret\s+0\/1\s+CreateContainerConfigError\s/.test(out) ? out : undefined;
    });
    assert.ok(waiting);
    assert.equal(await kubectl.ok(['get', 'pod', 'needs-secret', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.message}']), 'secret "later" not found');
    const events = await kubectl.ok(['get', 'events', '--field-selector', 'involvedObject.name=needs-secret,reason=Failed', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /Error: secret "later" not found/);
    await kubectl.ok(['create', 'secret', 'generic', 'later', '--from-literal=password=x']);
    await eventually('the pod to run', async () => (/needs-secret\s+1\/1\s+Running\s/.test(await kubectl.ok(['get', 'pod', 'needs-secret'])) ? true : undefined));
  });

  test('a pod mounting a missing ConfigMap stays ContainerCreating with FailedMount events until it exists', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Pod
metadata:
  name: mounts
spec:
  imagePullSecrets:
  - name: regcred
  containers:
  - name: app
    image: nginx:1.27
    volumeMounts:
    - name: cfg
      mountPath: /etc/app
  volumes:
  - name: cfg
    configMap:
      name: app-files
  - name: scratch
    emptyDir: {}
` });
    await eventually('FailedMount', async () => {
      const messages = await kubectl.ok(['get', 'events', '--field-selector', 'involvedObject.name=mounts,reason=FailedMount', '-o', 'jsonpath={.items[*].message}']);
      return messages.includes('MountVolume.SetUp failed for volume "cfg" : configmap "app-files" not found') ? true : undefined;
    });
    assert.match(await kubectl.ok(['get', 'pod', 'mounts']), /mounts\s+0\/1\s+ContainerCreating\s/);
    await kubectl.ok(['create', 'configmap', 'app-files', '--from-literal=app.conf=x']);
    await eventually('the pod to run', async () => (/mounts\s+1\/1\s+Running\s/.test(await kubectl.ok(['get', 'pod', 'mounts'])) ? true : undefined));
    const pullWarning = await kubectl.ok(['get', 'events', '--field-selector', 'involvedObject.name=mounts,reason=FailedToRetrieveImagePullSecret', '-o', 'jsonpath={.items[*].message}']);
    assert.match(pullWarning, /Unable to retrieve some image pull secrets \(regcred\); attempting to pull the image may not succeed\./);
  });

  test('probes: Ready after initialDelaySeconds, unready and out of the slice while failing, liveness restarts', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Pod
metadata:
  name: probed
  labels:
    app: probed
spec:
  containers:
  - name: app
    image: nginx:1.27
    ports:
    - containerPort: 80
    readinessProbe:
      httpGet:
        path: /healthz
        port: 80
      initialDelaySeconds: 3
      periodSeconds: 1
      failureThreshold: 1
    livenessProbe:
      tcpSocket:
        port: 80
      periodSeconds: 1
      failureThreshold: 2
` });
    await kubectl.ok(['expose', 'pod', 'probed', '--port=80']);
    await eventually('Running 0/1', async () => (/probed\s+0\/1\s+Running\s/.test(await kubectl.ok(['get', 'pod', 'probed'])) ? true : undefined));
    const runningAt = Date.now();
    await eventually('Running 1/1', async () => (/probed\s+1\/1\s+Running\s/.test(await kubectl.ok(['get', 'pod', 'probed'])) ? true : undefined));
    assert.ok(Date.now() - runningAt > 1000, 'Ready only after the initial delay');
    const ready = () => kubectl.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=probed', '-o', 'jsonpath={.items[*].endpoints[*].conditions.ready}']);
    await eventually('the pod ready in its slice', async () => ((await ready()) === 'true' ? true : undefined));

    await kubectl.ok(['annotate', 'pod', 'probed', 'kubefacade.io/fail-probes=readiness']);
    await eventually('0/1 again', async () => (/probed\s+0\/1\s+Running\s/.test(await kubectl.ok(['get', 'pod', 'probed'])) ? true : undefined));
    await eventually('the slice to drop it', async () => ((await ready()) === 'false' ? true : undefined));
    const unhealthy = await kubectl.ok(['get', 'events', '--field-selector', 'involvedObject.name=probed,reason=Unhealthy', '-o', 'jsonpath={.items[*].message}']);
    assert.match(unhealthy, /Readiness probe failed: HTTP probe failed with statuscode: 503/);

    await kubectl.ok(['annotate', 'pod', 'probed', '--overwrite', 'kubefacade.io/fail-probes=liveness']);
    await eventually('a restart', async () => (Number(await kubectl.ok(['get', 'pod', 'probed', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])) >= 1 ? true : undefined));
    const killing = await kubectl.ok(['get', 'events', '--field-selector', 'involvedObject.name=probed,reason=Killing', '-o', 'jsonpath={.items[*].message}']);
    assert.match(killing, /Container app failed liveness probe, will be restarted/);
  });

  test('create service, expose a pod, endpoint slices follow ready pods, cluster-info', async () => {
    assert.equal(await kubectl.ok(['create', 'service', 'nodeport', 'np', '--tcp=80:8080']), 'service/np created\n');
    const [header, np] = parseColumns(await kubectl.ok(['get', 'svc', 'np']));
    assert.deepEqual(header, ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    assert.equal(np[1], 'NodePort');
    assert.ok(ipInCidr(np[2], '10.96.0.0/12'), np[2]);
    assert.match(np[4], /^80:3\d{4}\/TCP$/);
    const [, kubernetes] = parseColumns(await kubectl.ok(['get', 'svc', 'kubernetes']));
    assert.deepEqual(kubernetes.slice(0, 5), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);

    await kubectl.ok(['run', 'web', '--image=nginx:1.27', '--labels=app=web', '--port=80']);
    assert.equal(await kubectl.ok(['expose', 'pod', 'web', '--port=8080', '--target-port=80']), 'service/web exposed\n');
    await kubectl.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=60s']);
    const podIP = await kubectl.ok(['get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}']);
    const slices = await eventually('the pod in the service\'s slice', async () => {
      const out = await kubectl.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']);
      return out.includes(podIP) ? out : undefined;
    });
    const [sliceHeader, slice] = parseColumns(slices);
    assert.deepEqual(sliceHeader, ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
    assert.deepEqual(slice.slice(1, 4), ['IPv4', '80', podIP]);
    assert.match(await kubectl.ok(['get', 'endpoints', 'web']), new RegExp(`${podIP.replaceAll('.', '\\.')}:80`));

    // The pod's token volume is the projected one of the ServiceAccount admission plugin.
    assert.match(await kubectl.ok(['get', 'pod', 'web', '-o', 'jsonpath={.spec.volumes[0].name}']), /^kube-api-access-[a-z0-9]{5}$/);

    await kubectl.ok(['delete', 'pod', 'web', '--wait=false']);
    await eventually('the deleted pod to leave the slice', async () => {
      const out = await kubectl.ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[*].conditions.ready}']);
      return !out.includes('true') ? true : undefined;
    });

    const info = await kubectl.ok(['cluster-info']);
    assert.match(info, new RegExp(`Kubernetes control plane.* is running at .*${serverUrl.replaceAll('.', '\\.')}`));
  });
});
