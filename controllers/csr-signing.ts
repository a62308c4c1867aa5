// The csrsigning controller (pkg/controller/certificates/signer): kube-controller-manager's four
// local signers, kubernetes.io/kubelet-serving, kube-apiserver-client-kubelet, kube-apiserver-client and
// legacy-unknown, each with its CA. An approved, not failed request of a signer that runs and has no
// certificate yet is checked as that signer checks it (api/resources/csr-signer-checks.ts): a request
// that fails gets the Failed condition (SignerValidationFailure, the check's message), any other one
// its certificate in status.certificate (subject, key and SANs from the request, the request's
// usages, --cluster-signing-duration or the shorter expirationSeconds, at least 10 minutes).
// Requests for other signers are left to their signers.

import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiStatusError, JsonApiClient } from '../clients/json-api-client.ts';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import { SyncQueue } from './framework/sync-queue.ts';
import { parseCertificateRequest } from '../api/resources/csr-request.ts';
import { BUILT_IN_SIGNERS, signerProblem, type BuiltInSigner } from '../api/resources/csr-signer-checks.ts';
import { signCertificateRequest } from '../auth/csr-certificates.ts';
import type { ControllerLogger, RunningController } from './node-lifecycle.ts';

/** --cluster-signing-duration: 8760h, one year. */
export const DEFAULT_SIGNING_DURATION_SECONDS = 365 * 24 * 3600;
const MIN_DURATION_SECONDS = 600;
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

interface Condition { type: string; status: string; reason?: string; message?: string; lastUpdateTime?: string }
interface CertificateSigningRequest extends KubernetesObject {
  spec?: { request?: string; signerName?: string; usages?: string[]; expirationSeconds?: number };
  status?: { conditions?: Condition[]; certificate?: string };
}

/** A signer's CA: certificate and private key, PEM. */
export interface SigningCa { certPem: string; keyPem: string }
/** The CA of each signer that runs; a signer without one is not run. */
export type SignerCas = Partial<Record<BuiltInSigner, SigningCa>>;

export interface CsrSigningControllerOptions {
  kubeconfigPath: string;
  signers: SignerCas;
  /** --cluster-signing-duration in seconds. */
  signingDurationSeconds?: number;
  logger?: ControllerLogger;
}

export interface RunningCsrSigningController extends RunningController {
  idle(): Promise<void>;
}

/** The same CA for every signer (--cluster-signing-cert-file/--cluster-signing-key-file). */
export function everySigner(ca: SigningCa): SignerCas {
  return Object.fromEntries(BUILT_IN_SIGNERS.map((signer) => [signer, ca]));
}

/** signer.duration: the signer's duration, shortened to the requested one (at least 10 minutes). */
export function certificateDuration(signerSeconds: number, requested: number | undefined): number {
  if (requested === undefined) return signerSeconds;
  return Math.min(signerSeconds, Math.max(MIN_DURATION_SECONDS, requested));
}

const isBuiltInSigner = (name: string | undefined): name is BuiltInSigner => (BUILT_IN_SIGNERS as readonly (string | undefined)[]).includes(name);

export async function runCsrSigningController(options: CsrSigningControllerOptions): Promise<RunningCsrSigningController> {
  const logger = options.logger ?? { info: console.error, warn: console.error };
  const client = new JsonApiClient(loadKubeConfig(options.kubeconfigPath), componentUserAgent('kube-controller-manager'));
  const latest = new Map<string, CertificateSigningRequest>();

  const sync = async (name: string): Promise<void> => {
    const csr = latest.get(name);
    const signerName = csr?.spec?.signerName;
    if (!csr?.spec || !isBuiltInSigner(signerName) || csr.status?.certificate) return;
    const ca = options.signers[signerName];
    if (!ca) return;
    const conditions = csr.status?.conditions ?? [];
    const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
    if (!has('Approved') || has('Denied') || has('Failed')) return;
    const usages = csr.spec.usages ?? [];
    let parsed: ReturnType<typeof parseCertificateRequest>;
    try {
      parsed = parseCertificateRequest(Buffer.from(csr.spec.request ?? '', 'base64'));
    } catch (err) {
      throw new Error(`unable to parse csr "${name}": ${err instanceof Error ? err.message : String(err)}`);
    }
    const problem = signerProblem(signerName, parsed, usages);
    let status: CertificateSigningRequest['status'];
    if (problem) {
      status = { ...csr.status, conditions: [...conditions, { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem, lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] };
    } else {
      const pem = signCertificateRequest({ caCertPem: ca.certPem, caKeyPem: ca.keyPem }, {
        commonName: parsed.commonName, organizations: parsed.organizations, subjectAttributes: parsed.subjectAttributes,
        subjectPublicKeyInfo: parsed.subjectPublicKeyInfo, usages,
        ...(parsed.subjectAltNameDer ? { subjectAltNameDer: parsed.subjectAltNameDer } : {}),
        durationSeconds: certificateDuration(options.signingDurationSeconds ?? DEFAULT_SIGNING_DURATION_SECONDS, csr.spec.expirationSeconds),
      });
      status = { ...csr.status, certificate: Buffer.from(pem).toString('base64') };
    }
    try {
      await client.request('PUT', `${CSR_PATH}/${name}/status`, { ...csr, status });
    } catch (err) {
      // Deleted meanwhile, or changed: the informer brings the newer object.
      if (err instanceof ApiStatusError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  };

  const queue = new SyncQueue(sync, { workers: 5, onError: (key, err) => logger.warn(`csrsigning-controller: ${key}: ${err instanceof Error ? err.message : String(err)}`) });
  const changed = (csr: CertificateSigningRequest) => {
    const name = csr.metadata?.name ?? '';
    latest.set(name, csr);
    queue.add(name);
  };
  const log = { info: (m: string) => logger.info(m), error: (m: string) => logger.warn(m) };
  const informer: LeanInformer = startLeanInformer<CertificateSigningRequest>(client, CSR_PATH, undefined, {
    add: changed,
    update: changed,
    delete: (csr) => latest.delete(csr.metadata?.name ?? ''),
  }, log);
  await informer.synced;
  return {
    idle: () => queue.idle(),
    async stop() {
      queue.stop();
      await informer.stop();
      client.close();
    },
  };
}
