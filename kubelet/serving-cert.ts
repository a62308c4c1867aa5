// A self-signed serving certificate for the simulated kubelets' HTTPS endpoints. One key and certificate serve every
// node of the process (SANs list all node names and IPs). The key is ECDSA P-256 (auth/x509.ts): a millisecond to
// generate, where RSA-2048 cost up to a second of a cluster's start.
import { generateEcKeyPair, issueCertificate } from '../auth/x509.ts';

export interface ServingCert {
  certPem: string;
  keyPem: string;
}

export function createKubeletServingCert(hosts: { names: string[]; ips: string[] }): ServingCert {
  const { publicKeyPem, privateKeyPem } = generateEcKeyPair();
  const certPem = issueCertificate({
    commonName: 'kubefacade-kubelet',
    publicKeyPem,
    days: 365,
    isCa: false,
    keyUsage: { digitalSignature: true, keyEncipherment: true },
    extKeyUsage: ['serverAuth'],
    subjectAltNames: ['localhost', ...hosts.names, '127.0.0.1', ...hosts.ips],
  }, { privateKeyPem });
  return { certPem, keyPem: privateKeyPem };
}
