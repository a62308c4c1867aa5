// Conformance entries of sig-auth for service accounts (OIDC issuer discovery, token automount, subject access
// reviews through impersonation) and the sig-node entry for the service environment variables the kubelet gives
// containers, checked against `up`'s cluster with one simulated node. A container's environment is read with the
// real kubectl's exec (the simulated container's shell answers `env`).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import request from 'supertest';
import { Kubectl } from '../helpers/kubectl.ts';
import { podManifest, startConformanceCluster, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

describe('conformance: auth and service accounts', () => {
  let c: ConformanceCluster;
  let kubectl: Kubectl;
  before(async () => {
    c = await startConformanceCluster('auth-sa', { nodes: 1 });
    kubectl = await Kubectl.create(c.kubeconfigPath);
  });
  after(async () => {
    await kubectl?.dispose();
    await c?.stop();
  });

  let namespaces = 0;
  /** A new namespace, once the service-account controller has given it its `default` account. */
  const namespace = async (): Promise<string> => {
    const name = `sa-e2e-${++namespaces}`;
    await c.api('post', '/api/v1/namespaces', { body: { metadata: { name } } });
    await until(async () => (await c.api('get', `/api/v1/namespaces/${name}/serviceaccounts/default`)).metadata, `default service account in ${name}`);
    return name;
  };
  const asBearer = (method: 'get' | 'post', path: string, token: string) =>
    request(c.server.url)[method](path).ca(c.server.caCertPem).set('Authorization', `Bearer ${token}`);
  const runningPod = (ns: string, name: string) => until(async () => {
    const pod = await c.api('get', `/api/v1/namespaces/${ns}/pods/${name}`);
    return pod.status?.phase === 'Running' ? pod : undefined;
  }, `pod ${ns}/${name} running`, 60_000);

  test('OIDC Discovery (ServiceAccountIssuerDiscovery)', async () => {
    const ns = await namespace();
    await c.api('post', `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name: 'oidc-discovery-test' } } });
    const pod = await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: podManifest('oidc-discovery-validator', { spec: { serviceAccountName: 'oidc-discovery-test' } }) });
    // The token the kubelet would project into the pod: audience oidc-discovery-test, bound to the pod.
    const review = await c.api('post', `/api/v1/namespaces/${ns}/serviceaccounts/oidc-discovery-test/token`, { body: {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: { audiences: ['oidc-discovery-test'], expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
    } });
    const token = review.status.token as string;
    const [headerPart, payloadPart, signaturePart] = token.split('.');
    const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
    const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));

    // The pod's API credential (its automounted token, audience: the API server) may read the discovery documents
    // (system:service-account-issuer-discovery); the audience-bound token is not accepted by the API server itself.
    const apiToken = (await c.api('post', `/api/v1/namespaces/${ns}/serviceaccounts/oidc-discovery-test/token`, { body: {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
    } })).status.token as string;
    assert.equal((await asBearer('get', '/.well-known/openid-configuration', token)).status, 401);
    const discoveryRes = await asBearer('get', '/.well-known/openid-configuration', apiToken);
    assert.equal(discoveryRes.status, 200, discoveryRes.text);
    assert.match(discoveryRes.headers['content-type'], /^application\/json/);
    assert.equal(discoveryRes.headers['cache-control'], 'public, max-age=3600');
    const discovery = JSON.parse(discoveryRes.text);
    assert.equal(discovery.issuer, claims.iss);
    assert.match(discovery.issuer, /^https:\/\//);
    assert.deepEqual(discovery.response_types_supported, ['id_token']);
    assert.deepEqual(discovery.subject_types_supported, ['public']);
    assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['ES256']);
    const jwksUri = new URL(discovery.jwks_uri);
    assert.equal(jwksUri.protocol, 'https:');
    assert.equal(jwksUri.pathname, '/openid/v1/jwks');
    assert.equal(jwksUri.host, new URL(c.server.url).host);

    const keysRes = await asBearer('get', jwksUri.pathname, apiToken);
    assert.equal(keysRes.status, 200, keysRes.text);
    assert.match(keysRes.headers['content-type'], /^application\/jwk-set\+json/);
    const keys = JSON.parse(keysRes.text).keys as (JsonWebKey & { kid: string; alg: string; use: string })[];
    const key = keys.find((k) => k.kid === header.kid);
    assert.ok(key, `a key with the token's kid ${header.kid}`);
    // A new data dir signs with an ECDSA P-256 key (ES256), as kube-apiserver does with an EC --service-account-signing-key-file.
    assert.deepEqual([key.kty, key.crv, key.alg, key.use, header.alg], ['EC', 'P-256', 'ES256', 'sig', 'ES256']);
    // The token verifies against the published key, as an OIDC relying party checks it (JWS: r || s, not DER).
    const publicKey = { key: createPublicKey({ key, format: 'jwk' }), dsaEncoding: 'ieee-p1363' as const };
    const valid = verify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), publicKey, Buffer.from(signaturePart, 'base64url'));
    assert.equal(valid, true);
    const forged = `${headerPart}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:default' })).toString('base64url')}`;
    assert.equal(verify('sha256', Buffer.from(forged), publicKey, Buffer.from(signaturePart, 'base64url')), false);
    assert.equal(claims.sub, `system:serviceaccount:${ns}:oidc-discovery-test`);
    assert.deepEqual(claims.aud, ['oidc-discovery-test']);
    assert.ok(claims.exp > Date.now() / 1000 && claims.iat <= Date.now() / 1000 + 1);
    assert.equal(claims['kubernetes.io'].pod.uid, pod.metadata.uid);
    // Anonymous requests are refused.
    const anonymous = await request(c.server.url).get('/.well-known/openid-configuration').ca(c.server.caCertPem);
    assert.equal(anonymous.status, 401);
  });

  test('Service account tokens auto mount optionally', async () => {
    const ns = await namespace();
    const accounts: Record<string, boolean | undefined> = { default: undefined, mount: true, nomount: false };
    for (const [name, automount] of Object.entries(accounts)) {
      if (name === 'default') continue;
      await c.api('post', `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name }, automountServiceAccountToken: automount } });
    }
    for (const [account, saAutomount] of Object.entries(accounts)) {
      for (const podAutomount of [undefined, true, false]) {
        const name = `pod-service-account-${account}-${podAutomount === undefined ? 'nil' : podAutomount ? 'mount' : 'nomount'}`;
        const created = await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: podManifest(name, { spec: {
          serviceAccountName: account, ...(podAutomount === undefined ? {} : { automountServiceAccountToken: podAutomount }),
        } }) });
        // Mounted unless the pod says false, or the pod says nothing and the account says false.
        const expected = podAutomount ?? saAutomount ?? true;
        const mounts = (created.spec.containers[0].volumeMounts ?? []) as Json[];
        const mount = mounts.find((m) => m.mountPath === TOKEN_MOUNT_PATH);
        assert.equal(Boolean(mount), expected, `${name}: token mounted`);
        const volume = ((created.spec.volumes ?? []) as Json[]).find((v) => v.name === mount?.name);
        assert.equal(Boolean(volume), expected, `${name}: token volume`);
        if (volume) {
          assert.equal(mount!.readOnly, true);
          const sources = volume.projected.sources as Json[];
          assert.equal(sources[0].serviceAccountToken.path, 'token');
          assert.equal(sources[1].configMap.name, 'kube-root-ca.crt');
          assert.equal(sources[2].downwardAPI.items[0].fieldRef.fieldPath, 'metadata.namespace');
        }
      }
    }
    // The pods run either way.
    await runningPod(ns, 'pod-service-account-nomount-nil');
    await runningPod(ns, 'pod-service-account-mount-mount');
  });

  test('SubjectReview, API Operations', async () => {
    const ns = await namespace();
    const saName = 'e2e-sa';
    const saUsername = `system:serviceaccount:${ns}:${saName}`;
    await c.api('post', `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name: saName } } });
    const impersonated = (path: string) => c.raw('get', path).set('Impersonate-User', saUsername).set('Impersonate-Uid', 'test-uid');
    const spec = { resourceAttributes: { verb: 'list', resource: 'configmaps', namespace: ns, version: 'v1' }, user: saUsername, uid: 'test-uid' };
    const reviews = async () => {
      const sar = await c.api('post', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec } });
      const lsar = await c.api('post', `/apis/authorization.k8s.io/v1/namespaces/${ns}/localsubjectaccessreviews`, { body: {
        apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', metadata: { namespace: ns }, spec,
      } });
      const call = await impersonated(`/api/v1/namespaces/${ns}/configmaps`);
      return { sar: sar.status.allowed as boolean, lsar: lsar.status.allowed as boolean, status: call.status };
    };
    // Nothing lets the account list configmaps yet: both reviews say no, and the impersonated call is forbidden.
    assert.deepEqual(await reviews(), { sar: false, lsar: false, status: 403 });
    // Once a Role allows it, both reviews say yes, and the impersonated call succeeds.
    await c.api('post', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, { body: { metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }] } });
    await c.api('post', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, { body: {
      metadata: { name: 'cm-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
      subjects: [{ kind: 'ServiceAccount', name: saName, namespace: ns }],
    } });
    await until(async () => {
      const result = await reviews();
      return result.sar ? result : undefined;
    }, 'the role binding to take effect').then((result) => assert.deepEqual(result, { sar: true, lsar: true, status: 200 }));
    // A LocalSubjectAccessReview for another namespace than its own is refused.
    const mismatch = await c.raw('post', `/apis/authorization.k8s.io/v1/namespaces/${ns}/localsubjectaccessreviews`).set('Content-Type', 'application/json')
      .send(JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', metadata: { namespace: ns }, spec: { ...spec, resourceAttributes: { ...spec.resourceAttributes, namespace: 'default' } } }));
    assert.equal(mismatch.status, 400, mismatch.text);
  });

  test('Pods, service environment variables', async () => {
    const ns = await namespace();
    await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: {
      metadata: { name: 'server-envvars', labels: { name: 'server-envvars' } },
      spec: { containers: [{ name: 'srv', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['serve-hostname', '--port=9376'], ports: [{ containerPort: 9376 }] }] },
    } });
    await runningPod(ns, 'server-envvars');
    const service = await c.api('post', `/api/v1/namespaces/${ns}/services`, { body: {
      metadata: { name: 'fooservice', labels: { name: 'fooservice' } },
      spec: { ports: [{ port: 8765, targetPort: 8080 }], selector: { name: 'server-envvars' } },
    } });
    const ip = service.spec.clusterIP as string;
    await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: {
      metadata: { name: 'client-envvars' },
      spec: { containers: [{ name: 'env3cont', image: 'registry.k8s.io/e2e-test-images/busybox:1.36.1-1', command: ['sleep', '3600'],
        env: [{ name: 'FOO_URL', value: 'http://$(FOOSERVICE_SERVICE_HOST):$(FOOSERVICE_SERVICE_PORT)/' }] }], restartPolicy: 'Never' },
    } });
    await runningPod(ns, 'client-envvars');
    // A service created after the client's container started is not in its environment (as with a real kubelet).
    await c.api('post', `/api/v1/namespaces/${ns}/services`, { body: { metadata: { name: 'late-service' }, spec: { ports: [{ port: 80 }] } } });
    const env = new Map((await kubectl.ok(['exec', '-n', ns, 'client-envvars', '--', 'env'])).trim().split('\n').map((line) => {
      const eq = line.indexOf('=');
      return [line.slice(0, eq), line.slice(eq + 1)] as const;
    }));
    const expected: Record<string, string> = {
      FOOSERVICE_SERVICE_HOST: ip,
      FOOSERVICE_SERVICE_PORT: '8765',
      FOOSERVICE_PORT: `tcp://${ip}:8765`,
      FOOSERVICE_PORT_8765_TCP_PORT: '8765',
      FOOSERVICE_PORT_8765_TCP_PROTO: 'tcp',
      FOOSERVICE_PORT_8765_TCP: `tcp://${ip}:8765`,
      FOOSERVICE_PORT_8765_TCP_ADDR: ip,
      // The `kubernetes` service of default is in every container's environment.
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.96.0.1:443',
      // $(VAR) references to service variables are expanded.
      FOO_URL: `http://${ip}:8765/`,
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(env.get(name), value, name);
    assert.equal(env.has('LATE_SERVICE_SERVICE_HOST'), false);
    // The server pod started before fooservice existed: no FOOSERVICE variables there.
    const serverEnv = await kubectl.ok(['exec', '-n', ns, 'server-envvars', '--', 'env']);
    assert.doesNotMatch(serverEnv, /FOOSERVICE_/);
    assert.match(serverEnv, /KUBERNETES_SERVICE_HOST=10\.96\.0\.1/);
  });
});
