import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeProtobufBody, kubernetesProtoRoot, PROTOBUF_MAGIC } from '../server/protobuf/decode.ts';
import { StatusError } from '../api/errors.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'protobuf');
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, `${name}.bin`));

function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const unknownType = kubernetesProtoRoot().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const unknown = unknownType.encode(unknownType.create({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Buffer.concat([PROTOBUF_MAGIC, unknown]);
}

function assertBadRequest(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof StatusError && err.code === 400 && pattern.test(err.message));
}

describe('protobuf bodies captured from kubectl 1.32', () => {
  test('create namespace', () => {
    assert.deepEqual(decodeProtobufBody(fixture('create-namespace')), {
      apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, spec: {}, status: {},
    });
  });

  test('create role (empty apiGroups entry kept: "" is the core group)', () => {
    assert.deepEqual(decodeProtobufBody(fixture('create-role')), {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r1' },
      rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'], resourceNames: ['web'] }],
    });
  });

  test('create rolebinding', () => {
    assert.deepEqual(decodeProtobufBody(fixture('create-rolebinding')), {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb1' },
      subjects: [
        { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
        { kind: 'ServiceAccount', name: 'sa1', namespace: 'default' },
      ],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r1' },
    });
  });

  test('auth can-i (status.allowed=false survives: Go has no omitempty on it)', () => {
    assert.deepEqual(decodeProtobufBody(fixture('auth-can-i')), {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
      spec: { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' } },
      status: { allowed: false },
    });
  });

  test('auth whoami', () => {
    assert.deepEqual(decodeProtobufBody(fixture('auth-whoami')), {
      apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {}, status: { userInfo: {} },
    });
  });
});

describe('protobuf round trip', () => {
  test('a Pod encoded with the upstream schema decodes to the JSON API form', () => {
    const podType = kubernetesProtoRoot().lookupType('k8s.io.api.core.v1.Pod');
    const message = podType.fromObject({
      metadata: {
        name: 'web', generateName: '', namespace: 'default', labels: { app: 'web', empty: '' },
        creationTimestamp: { seconds: 1700000000, nanos: 0 },
      },
      spec: {
        containers: [{
          name: 'nginx', image: 'nginx:1.27', workingDir: '',
          ports: [{ containerPort: 80, protocol: 'TCP', hostPort: 0 }],
          resources: { limits: { cpu: { string: '500m' }, memory: { string: '128Mi' } } },
          readinessProbe: { handler: { httpGet: { path: '/', port: { type: 0, intVal: 80 } } }, initialDelaySeconds: 0 },
          livenessProbe: { handler: { tcpSocket: { port: { type: 1, strVal: 'http' } } } },
          securityContext: { runAsUser: 0, privileged: false },
        }],
        volumes: [{ name: 'cfg', volumeSource: { configMap: { localObjectReference: { name: 'app' }, defaultMode: 420 } } }],
        terminationGracePeriodSeconds: 0,
        nodeName: '',
        tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastProbeTime: {}, lastTransitionTime: { seconds: 1700000001 } }],
        containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: { running: { startedAt: { seconds: 1700000002 } } } }],
      },
    });
    const raw = podType.encode(message).finish();
    assert.deepEqual(decodeProtobufBody(envelope('v1', 'Pod', raw)), {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web', empty: '' }, creationTimestamp: '2023-11-14T22:13:20Z' },
      spec: {
        containers: [{
          name: 'nginx', image: 'nginx:1.27',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          resources: { limits: { cpu: '500m', memory: '128Mi' } },
          readinessProbe: { httpGet: { path: '/', port: 80 } },
          livenessProbe: { tcpSocket: { port: 'http' } },
          securityContext: { runAsUser: 0, privileged: false },
        }],
        volumes: [{ name: 'cfg', configMap: { name: 'app', defaultMode: 420 } }],
        terminationGracePeriodSeconds: 0,
        tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2023-11-14T22:13:21Z' }],
        containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: { running: { startedAt: '2023-11-14T22:13:22Z' } } }],
      },
    });
  });

  test('Lease MicroTime keeps microseconds; DeleteOptions under any group version', () => {
    const root = kubernetesProtoRoot();
    const leaseType = root.lookupType('k8s.io.api.coordination.v1.Lease');
    const lease = leaseType.encode(leaseType.fromObject({
      metadata: { name: 'node-1', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: { seconds: 1700000000, nanos: 123456789 } },
    })).finish();
    assert.deepEqual(decodeProtobufBody(envelope('coordination.k8s.io/v1', 'Lease', lease)).spec, {
      holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2023-11-14T22:13:20.123456Z',
    });
    const optionsType = root.lookupType('k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions');
    const options = optionsType.encode(optionsType.fromObject({ gracePeriodSeconds: 0, propagationPolicy: 'Background', dryRun: [] })).finish();
    assert.deepEqual(decodeProtobufBody(envelope('rbac.authorization.k8s.io/v1', 'DeleteOptions', options)), {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'DeleteOptions', metadata: {}, gracePeriodSeconds: 0, propagationPolicy: 'Background',
    });
  });
});

describe('protobuf for the storage, networking, flowcontrol and certificates kinds', () => {
  test('a CSIDriver keeps attachRequired: false; a CSR keeps its request bytes and expirationSeconds', () => {
    const root = kubernetesProtoRoot();
    const driverType = root.lookupType('k8s.io.api.storage.v1.CSIDriver');
    const driver = driverType.encode(driverType.fromObject({ metadata: { name: 'csi.example.com' }, spec: { attachRequired: false, podInfoOnMount: true } })).finish();
    assert.deepEqual(decodeProtobufBody(envelope('storage.k8s.io/v1', 'CSIDriver', driver)).spec, { attachRequired: false, podInfoOnMount: true });
    const csrType = root.lookupType('k8s.io.api.certificates.v1.CertificateSigningRequest');
    const csr = csrType.encode(csrType.fromObject({
      metadata: { name: 'alice' }, spec: { request: Buffer.from('PEM'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 600 },
    })).finish();
    assert.deepEqual(decodeProtobufBody(envelope('certificates.k8s.io/v1', 'CertificateSigningRequest', csr)).spec, {
      request: Buffer.from('PEM').toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 600,
    });
  });
});

describe('protobuf errors', () => {
  test('missing magic, unknown kinds and garbage are 400 BadRequest', () => {
    assertBadRequest(() => decodeProtobufBody(Buffer.from('{"kind":"Pod"}')), /k8s/);
    assertBadRequest(() => decodeProtobufBody(envelope('v1', 'ComponentStatus', new Uint8Array())), /no kind "ComponentStatus" is registered for version "v1"/);
    assertBadRequest(() => decodeProtobufBody(envelope('', '', new Uint8Array())), /Kind/);
    assertBadRequest(() => decodeProtobufBody(Buffer.concat([PROTOBUF_MAGIC, Buffer.from([0x0a, 0xff, 0xff, 0x01])])), /unable to decode/);
    assertBadRequest(() => decodeProtobufBody(envelope('v1', 'Pod', Buffer.from([0x0a, 0x05, 0x01]))), /unable to decode/);
  });
});
