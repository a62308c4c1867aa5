// PKCS#10 requests for tests, built with node-forge (a test-only dependency): an RSA key, a subject of
// organizations and a common name, and subjectAltNames of every kind.

import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface RequestOptions { organizations?: string[]; dnsNames?: string[]; ipAddresses?: string[]; emails?: string[]; uris?: string[] }

/** A PKCS#10 request (RSA, node-forge) with the given subject and subjectAltNames; base64 of its PEM. */
export function certificateRequest(commonName: string, options: RequestOptions = {}): string {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey);
  csr.setSubject([
    ...(options.organizations ?? []).map((value) => ({ name: 'organizationName', value })),
    { name: 'commonName', value: commonName },
  ]);
  const altNames = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
    ...(options.emails ?? []).map((value) => ({ type: 1, value })),
    ...(options.uris ?? []).map((value) => ({ type: 6, value })),
  ];
  if (altNames.length > 0) csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames }] }]);
  csr.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return Buffer.from(forge.pki.certificationRequestToPem(csr)).toString('base64');
}

