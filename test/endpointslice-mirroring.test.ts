// Units of the EndpointSlice mirroring controller's mapping from Endpoints subsets to slices
// (controllers/endpointslice-mirroring.ts); the controller itself runs in test/conformance/network-services.test.ts.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mirroredEndpointSets, shouldMirror } from '../controllers/endpointslice-mirroring.ts';

describe('EndpointSlice mirroring', () => {
  test('addresses become ready endpoints, notReadyAddresses not-ready ones, grouped by address type and ports', () => {
    const sets = mirroredEndpointSets([
      { addresses: [{ ip: '10.1.2.3', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p', namespace: 'ns' } }, { ip: 'fd00::1' }], notReadyAddresses: [{ ip: '10.1.2.4', hostname: 'h' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
      { addresses: [{ ip: '10.1.2.3', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p', namespace: 'ns' } }, { ip: 'not-an-ip' }], ports: [{ name: 'http', port: 80 }] },
      { addresses: [{ ip: '10.9.9.9' }], ports: [{ port: 53, protocol: 'UDP' }] },
    ]);
    assert.deepEqual([...sets.keys()], [
      'IPv4 [{"name":"http","port":80,"protocol":"TCP"}]',
      'IPv6 [{"name":"http","port":80,"protocol":"TCP"}]',
      'IPv4 [{"name":"","port":53,"protocol":"UDP"}]',
    ]);
    const [v4, v6, udp] = [...sets.values()];
    // The same address in two subsets with the same ports is one endpoint.
    assert.deepEqual(v4.endpoints, [
      { addresses: ['10.1.2.3'], conditions: { ready: true }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p', namespace: 'ns' } },
      { addresses: ['10.1.2.4'], conditions: { ready: false }, hostname: 'h' },
    ]);
    assert.deepEqual(v6.endpoints, [{ addresses: ['fd00::1'], conditions: { ready: true } }]);
    assert.equal(udp.addressType, 'IPv4');
  });

  test('at most the per-subset maximum of addresses is mirrored', () => {
    const addresses = Array.from({ length: 5 }, (_, i) => ({ ip: `10.0.0.${i + 1}` }));
    const [set] = [...mirroredEndpointSets([{ addresses, ports: [{ port: 80 }] }], 3).values()];
    assert.deepEqual(set.endpoints.map((e) => (e.addresses as string[])[0]), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  test('skip-mirror and leader-election Endpoints are not mirrored', () => {
    assert.equal(shouldMirror({ metadata: { name: 'a' } }), true);
    assert.equal(shouldMirror({ metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } }), false);
    assert.equal(shouldMirror({ metadata: { name: 'lock', annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } } }), false);
  });
});
