// The kubelet's --node-labels and --register-with-taints: parsing and the Node object they register.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { composeNodeForRegistration, parseNodeLabels, parseRegistrationTaints } from '../kubelet/node-object.ts';

describe('node registration options', () => {
  test('--register-with-taints takes key=value:Effect and key:Effect, comma-separated', () => {
    assert.deepEqual(parseRegistrationTaints('dedicated=gpu:NoSchedule, spot:PreferNoSchedule,x=:NoExecute'), [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'spot', effect: 'PreferNoSchedule' },
      { key: 'x', effect: 'NoExecute' },
    ]);
    assert.throws(() => parseRegistrationTaints('dedicated=gpu'), /invalid taint "dedicated=gpu"/);
    assert.throws(() => parseRegistrationTaints('a=b:NoWhere'), /invalid taint/);
  });

  test('--node-labels takes key=value pairs; values may be empty', () => {
    assert.deepEqual(parseNodeLabels('tier=small,topology.kubernetes.io/zone=zone-a,empty='),
      { tier: 'small', 'topology.kubernetes.io/zone': 'zone-a', empty: '' });
    assert.throws(() => parseNodeLabels('novalue'), /invalid label "novalue"/);
  });

  test('the registered Node carries the extra labels (never overriding the kubelet\'s own) and the taints', () => {
    const node = composeNodeForRegistration({
      name: 'gpu-01', index: 1, internalIp: '127.0.1.1', podCidr: '10.244.0.0/24', kubeletPort: 10250, cpu: '4', memory: '8Gi', pods: 110,
      extraLabels: { accelerator: 'gpu', 'kubernetes.io/hostname': 'spoofed' },
      taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
    }, Date.parse('2025-01-01T00:00:00Z'));
    assert.equal(node.metadata?.labels?.accelerator, 'gpu');
    assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], 'gpu-01');
    assert.deepEqual(node.spec?.taints, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    const plain = composeNodeForRegistration({
      name: 'n-01', index: 1, internalIp: '127.0.1.1', podCidr: '10.244.0.0/24', kubeletPort: 10250, cpu: '4', memory: '8Gi', pods: 110,
    }, 0);
    assert.equal(plain.spec?.taints, undefined);
  });
});
