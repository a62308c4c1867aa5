// Where a node's kubelet listens, as kube-apiserver finds it: the node's InternalIP and
// status.daemonEndpoints.kubeletEndpoint.Port. Only loopback addresses are dialled: simulated nodes live on this
// machine, and the API server must never become a way to reach anything else.
import { isIP } from 'node:net';
import { StatusError, badRequest } from '../api/errors.ts';
import type { GenericStore } from '../api/registry/store.ts';

/** The API server's client certificate towards kubelets (kube-apiserver's --kubelet-client-certificate/-key). */
export interface KubeletClientCertificate {
  certPem: string;
  keyPem: string;
}

export interface KubeletLocation {
  host: string;
  port: number;
}

export async function kubeletLocation(nodes: GenericStore | undefined, nodeName: string): Promise<KubeletLocation> {
  if (!nodes) throw new StatusError(500, 'InternalError', 'nodes are not served');
  const node = await nodes.get('', nodeName);
  const status = (node.status ?? {}) as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
  const address = status.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = status.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!address || !port) throw badRequest(`node ${nodeName} has no kubelet endpoint`);
  if (!isLoopback(address)) {
    throw badRequest(`refusing to dial the kubelet of node ${nodeName} at ${address}: only loopback kubelet addresses are allowed`);
  }
  return { host: address, port };
}

function isLoopback(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  return address === '::1';
}
