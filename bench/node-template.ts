// A Ready node as the scheduler scenario creates it through the API (no kubelet behind it): the
// capacity and conditions a simulated kubelet would report, so the scheduler's filters pass.

export function nodeTemplate(namePrefix: string): string {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now,
  });
  const capacity = { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: `${namePrefix}__I__`,
      labels: {
        'kubernetes.io/hostname': `${namePrefix}__I__`, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'bench', 'topology.kubernetes.io/zone': 'bench-zone-a',
      },
    },
    spec: {},
    status: {
      capacity, allocatable: capacity,
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      nodeInfo: {
        architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'v1.32.0', kubeProxyVersion: 'v1.32.0',
        containerRuntimeVersion: 'containerd://1.7.0', kernelVersion: '6.1.0', osImage: 'bench', bootID: '', machineID: '', systemUUID: '',
      },
      addresses: [{ type: 'Hostname', address: `${namePrefix}__I__` }],
    },
  });
}
