// Which CA each csrsigning signer uses, from kube-controller-manager's flags, as
// startCertificateSigningRequestSigningController decides it: --cluster-signing-cert-file/-key-file for
// every signer, or per-signer --cluster-signing-{kubelet-serving,kubelet-client,kube-apiserver-client,
// legacy-unknown}-{cert,key}-file (then only the signers given files run); both at once is an error.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBE_APISERVER_CLIENT_SIGNER, KUBELET_SERVING_SIGNER, LEGACY_UNKNOWN_SIGNER, type BuiltInSigner,
} from '../api/resources/csr-signer-checks.ts';
import type { SignerCas } from './csr-signing.ts';

export interface SignerFiles { certFile?: string; keyFile?: string }

export interface CsrSigningFlags {
  /** --cluster-signing-cert-file / --cluster-signing-key-file. */
  cluster?: SignerFiles;
  kubeletServing?: SignerFiles;
  kubeletClient?: SignerFiles;
  kubeApiserverClient?: SignerFiles;
  legacyUnknown?: SignerFiles;
}

/** The flag prefix of each signer's own files, in the order upstream starts the signers. */
export const SIGNER_FLAGS: readonly [BuiltInSigner, keyof CsrSigningFlags, string][] = [
  [KUBELET_SERVING_SIGNER, 'kubeletServing', 'kubelet-serving'],
  [KUBE_APISERVER_CLIENT_KUBELET_SIGNER, 'kubeletClient', 'kubelet-client'],
  [KUBE_APISERVER_CLIENT_SIGNER, 'kubeApiserverClient', 'kube-apiserver-client'],
  [LEGACY_UNKNOWN_SIGNER, 'legacyUnknown', 'legacy-unknown'],
];

const given = (files: SignerFiles | undefined): boolean => Boolean(files?.certFile || files?.keyFile);

/**
 * Reads the CA of every signer that runs. Returns undefined when no file is given (the controller is
 * skipped, "Skipping CSR signer controller because no csr cert/key was specified"); `skipped` names the
 * signers left out because only other signers have files.
 */
export async function loadSignerCas(flags: CsrSigningFlags): Promise<{ signers: SignerCas; skipped: BuiltInSigner[] } | undefined> {
  const anySpecific = SIGNER_FLAGS.some(([, key]) => given(flags[key]));
  const missingCluster = !flags.cluster?.certFile || !flags.cluster?.keyFile;
  if (missingCluster && !anySpecific) return undefined;
  if (!missingCluster && anySpecific) throw new Error('cannot specify default and per controller certs at the same time');
  const signers: SignerCas = {};
  const skipped: BuiltInSigner[] = [];
  for (const [signer, key, flag] of SIGNER_FLAGS) {
    const files = anySpecific ? flags[key] : flags.cluster;
    if (!given(files)) {
      skipped.push(signer);
      continue;
    }
    if (!files?.certFile || !files.keyFile) {
      throw new Error(`failed to start ${signer} certificate controller: --cluster-signing-${anySpecific ? `${flag}-` : ''}cert-file and --cluster-signing-${anySpecific ? `${flag}-` : ''}key-file must be given together`);
    }
    signers[signer] = await readSigningCa(signer, files.certFile, files.keyFile);
  }
  return { signers, skipped };
}

/** newCAProvider: the pair must load (a certificate and a private key) before the controller starts. */
async function readSigningCa(signer: BuiltInSigner, certFile: string, keyFile: string): Promise<{ certPem: string; keyPem: string }> {
  const fail = (what: string, err: unknown): Error =>
    new Error(`failed to start ${signer} certificate controller: ${what}: ${err instanceof Error ? err.message : String(err)}`);
  let certPem: string;
  let keyPem: string;
  try {
    certPem = await readFile(certFile, 'utf8');
    new X509Certificate(certPem);
  } catch (err) {
    throw fail(`error reading CA cert file "${certFile}"`, err);
  }
  try {
    keyPem = await readFile(keyFile, 'utf8');
    createPrivateKey(keyPem);
  } catch (err) {
    throw fail(`error reading CA key file "${keyFile}"`, err);
  }
  return { certPem, keyPem };
}
