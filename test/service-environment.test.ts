// Units of what the kubelet gives containers from services (kubelet/service-environment.ts) and of the service
// account issuer's OIDC documents (auth/openid-metadata.ts).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { openIdMetadata } from '../auth/openid-metadata.ts';
import { ServiceEnvironment } from '../kubelet/service-environment.ts';

const service = (namespace: string, name: string, clusterIP: string, ports: Record<string, unknown>[]) => ({
  metadata: { namespace, name }, spec: { clusterIP, ports },
});

describe('service environment variables', () => {
  test('FromServices: host, ports, named ports and Docker link variables', () => {
    const env = new ServiceEnvironment();
    env.changed(service('app', 'my-db', '10.96.3.4', [{ name: 'sql', port: 5432, protocol: 'TCP' }, { name: 'metrics', port: 9187, protocol: 'UDP' }]));
    assert.deepEqual(Object.fromEntries(env.variablesFor('app', true)), {
      MY_DB_SERVICE_HOST: '10.96.3.4',
      MY_DB_SERVICE_PORT: '5432',
      MY_DB_SERVICE_PORT_SQL: '5432',
      MY_DB_SERVICE_PORT_METRICS: '9187',
      MY_DB_PORT: 'tcp://10.96.3.4:5432',
      MY_DB_PORT_5432_TCP: 'tcp://10.96.3.4:5432',
      MY_DB_PORT_5432_TCP_PROTO: 'tcp',
      MY_DB_PORT_5432_TCP_PORT: '5432',
      MY_DB_PORT_5432_TCP_ADDR: '10.96.3.4',
      MY_DB_PORT_9187_UDP: 'udp://10.96.3.4:9187',
      MY_DB_PORT_9187_UDP_PROTO: 'udp',
      MY_DB_PORT_9187_UDP_PORT: '9187',
      MY_DB_PORT_9187_UDP_ADDR: '10.96.3.4',
    });
  });

  test('only the namespace, the master service of default, services with a cluster IP; enableServiceLinks', () => {
    const env = new ServiceEnvironment();
    env.changed(service('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]));
    env.changed(service('default', 'other', '10.96.0.9', [{ port: 80, protocol: 'TCP' }]));
    env.changed(service('app', 'web', '10.96.0.7', [{ port: 80, protocol: 'TCP' }]));
    env.changed(service('app', 'headless', 'None', [{ port: 80, protocol: 'TCP' }]));
    const externalName = { metadata: { namespace: 'app', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } };
    env.changed(externalName);
    const names = (links: boolean) => [...env.variablesFor('app', links).keys()].filter((k) => k.endsWith('_SERVICE_HOST')).sort();
    assert.deepEqual(names(true), ['KUBERNETES_SERVICE_HOST', 'WEB_SERVICE_HOST']);
    assert.deepEqual(names(false), ['KUBERNETES_SERVICE_HOST']);
    // A snapshot taken before a change keeps its values; the next one sees the change.
    const before = env.variablesFor('app', true);
    env.deleted(service('app', 'web', '10.96.0.7', []));
    assert.equal(before.get('WEB_SERVICE_HOST'), '10.96.0.7');
    assert.equal(env.variablesFor('app', true).has('WEB_SERVICE_HOST'), false);
  });
});

describe('service account issuer discovery documents', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId: 'kid-1' };

  test('configuration and key set as upstream renders them', () => {
    const metadata = openIdMetadata('https://kubefacade.local', '127.0.0.1:6443', key);
    assert.equal(metadata.configJson, JSON.stringify({
      issuer: 'https://kubefacade.local', jwks_uri: 'https://127.0.0.1:6443/openid/v1/jwks',
      response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
    }));
    const jwk = JSON.parse(metadata.keysetJson).keys[0];
    assert.deepEqual(Object.keys(jwk), ['use', 'kty', 'kid', 'alg', 'n', 'e']);
    assert.deepEqual([jwk.use, jwk.kty, jwk.kid, jwk.alg, jwk.e], ['sig', 'RSA', 'kid-1', 'RS256', 'AQAB']);
  });

  test('an ECDSA P-256 signing key (a new data dir\'s) is published as ES256 in go-jose\'s field order', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const metadata = openIdMetadata('https://kubefacade.local', '127.0.0.1:6443', { publicKeyPem: ec.export({ type: 'spki', format: 'pem' }).toString(), keyId: 'kid-2' });
    assert.deepEqual(JSON.parse(metadata.configJson).id_token_signing_alg_values_supported, ['ES256']);
    const jwk = JSON.parse(metadata.keysetJson).keys[0];
    assert.deepEqual(Object.keys(jwk), ['use', 'kty', 'kid', 'crv', 'alg', 'x', 'y']);
    assert.deepEqual([jwk.use, jwk.kty, jwk.kid, jwk.crv, jwk.alg], ['sig', 'EC', 'kid-2', 'P-256', 'ES256']);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    assert.throws(() => openIdMetadata('https://kubefacade.local', 'h:1', { publicKeyPem: p384.export({ type: 'spki', format: 'pem' }).toString(), keyId: 'k' }), /unsupported service account signing key type EC P-384/);
  });

  test('an issuer that is not an https URL without query or fragment is refused', () => {
    assert.throws(() => openIdMetadata('http://kubefacade.local', 'h:1', key), /issuer URL must use https scheme, got: http:\/\/kubefacade.local/);
    assert.throws(() => openIdMetadata('https://a.example?x=1', 'h:1', key), /may not include a query/);
    assert.throws(() => openIdMetadata('https://a.example#f', 'h:1', key), /may not include a fragment/);
  });
});
