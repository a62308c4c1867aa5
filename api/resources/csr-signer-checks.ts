// What each kubernetes.io signer requires of a request (pkg/apis/certificates/helpers.go
// ValidateKubeletServingCSR / ValidateKubeletClientCSR and the signer's validAPIServerClientUsages), with
// upstream's messages word for word: the csrsigning controller marks a request that fails them
// `Failed` (SignerValidationFailure) with the message, and the csrapproving controller only
// auto-approves requests that pass the kubelet client checks.

import type { ParsedCertificateRequest } from './csr-request.ts';

export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';

/** The signers kube-controller-manager's csrsigning controller runs, in the order it starts them. */
export const BUILT_IN_SIGNERS = [KUBELET_SERVING_SIGNER, KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBE_APISERVER_CLIENT_SIGNER, LEGACY_UNKNOWN_SIGNER] as const;
export type BuiltInSigner = (typeof BUILT_IN_SIGNERS)[number];

type Request = Pick<ParsedCertificateRequest, 'commonName' | 'organizations' | 'dnsNames' | 'ipAddresses' | 'emailAddresses' | 'uris'>;

const KUBELET_SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];
const KUBELET_SERVING_USAGES_NO_RSA = ['digital signature', 'server auth'];
const KUBELET_CLIENT_USAGES = ['client auth', 'digital signature', 'key encipherment'];
const KUBELET_CLIENT_USAGES_NO_RSA = ['client auth', 'digital signature'];

/** sets.String Equal. */
function sameSet(usages: string[], wanted: string[]): boolean {
  const set = new Set(usages);
  return set.size === wanted.length && wanted.every((usage) => set.has(usage));
}

/** Go's `%v` of a sorted []string. */
const goList = (items: string[]): string => `[${[...items].sort().join(' ')}]`;

/** reflect.DeepEqual([]string{"system:nodes"}, Subject.Organization). */
const onlySystemNodes = (request: Request): boolean => request.organizations.length === 1 && request.organizations[0] === 'system:nodes';

/** ValidateKubeletServingCSR: the error message, or undefined when the request is a kubelet serving request. */
export function kubeletServingProblem(request: Request, usages: string[]): string | undefined {
  if (!onlySystemNodes(request)) return 'subject organization is not system:nodes';
  if (request.dnsNames.length === 0 && request.ipAddresses.length === 0) return 'DNS or IP subjectAltName is required';
  if (request.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (request.uris.length > 0) return 'URI subjectAltNames are not allowed';
  if (!sameSet(usages, KUBELET_SERVING_USAGES) && !sameSet(usages, KUBELET_SERVING_USAGES_NO_RSA)) {
    return `usages did not match ${goList(KUBELET_SERVING_USAGES)}`;
  }
  if (!request.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  return undefined;
}

/** ValidateKubeletClientCSR. */
export function kubeletClientProblem(request: Request, usages: string[]): string | undefined {
  if (!onlySystemNodes(request)) return 'subject organization is not system:nodes';
  if (request.dnsNames.length > 0) return 'DNS subjectAltNames are not allowed';
  if (request.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (request.ipAddresses.length > 0) return 'IP subjectAltNames are not allowed';
  if (request.uris.length > 0) return 'URI subjectAltNames are not allowed';
  if (!request.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  if (!sameSet(usages, KUBELET_CLIENT_USAGES) && !sameSet(usages, KUBELET_CLIENT_USAGES_NO_RSA)) {
    return `usages did not match ${goList(KUBELET_CLIENT_USAGES)}`;
  }
  return undefined;
}

/** validAPIServerClientUsages. */
export function apiServerClientUsageProblem(usages: string[]): string | undefined {
  let clientAuth = false;
  for (const usage of usages) {
    if (usage === 'client auth') clientAuth = true;
    else if (usage !== 'digital signature' && usage !== 'key encipherment') return `invalid usage for client certificate: ${usage}`;
  }
  return clientAuth ? undefined : 'missing required usage for client certificate: client auth';
}

/** getCSRVerificationFuncForSignerName: the signer's checks; legacy-unknown applies none, for compatibility. */
export function signerProblem(signerName: BuiltInSigner, request: Request, usages: string[]): string | undefined {
  switch (signerName) {
    case KUBELET_SERVING_SIGNER: return kubeletServingProblem(request, usages);
    case KUBE_APISERVER_CLIENT_KUBELET_SIGNER: return kubeletClientProblem(request, usages);
    case KUBE_APISERVER_CLIENT_SIGNER: return apiServerClientUsageProblem(usages);
    case LEGACY_UNKNOWN_SIGNER: return undefined;
  }
}
