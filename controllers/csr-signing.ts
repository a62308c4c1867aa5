// The csrsigning controller's kubernetes.io/kube-apiserver-client signer
// (pkg/controller/certificates/signer): an approved, not denied, not failed request of that signer
// without a certificate gets one from the cluster CA in status.certificate; a request whose
// usages the signer does not allow gets a Failed condition (SignerValidationFailure). Requests
// for other signers are left to their signers.

import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiStatusError, JsonApiClient } from '../clients/json-api-client.ts';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import { SyncQueue } from './framework/sync-queue.ts';
import { parseCertificateRequest } from '../api/resources/csr-request.ts';
import { signCertificateRequest } from '../auth/csr-certificates.ts';
import type { ControllerLogger, RunningController } from './node-lifecycle.ts';

export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
/** --cluster-signing-duration: one year. */
const DEFAULT_SIGNING_DURATION_SECONDS = 365 * 24 * 3600;
const MIN_DURATION_SECONDS = 600;
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

interface Condition { type: string; status: string; reason?: string; message?: string; lastUpdateTime?: string }
interface CertificateSigningRequest extends KubernetesObject {
  spec?: { request?: string; signerName?: string; usages?: string[]; expirationSeconds?: number };
  status?: { conditions?: Condition[]; certificate?: string };
}

export interface CsrSigningControllerOptions {
  kubeconfigPath: string;
  caCertPem: string;
  caKeyPem: string;
  /** --cluster-signing-duration in seconds. */
  signingDurationSeconds?: number;
  logger?: ControllerLogger;
}

export interface RunningCsrSigningController extends RunningController {
  idle(): Promise<void>;
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

/** The certificate's lifetime: the signer's duration, shortened to the requested one (at least 10 minutes). */
export function certificateDuration(signerSeconds: number, requested: number | undefined): number {
  if (requested === undefined) return signerSeconds;
  return Math.min(signerSeconds, Math.max(MIN_DURATION_SECONDS, requested));
}

export async function runCsrSigningController(options: CsrSigningControllerOptions): Promise<RunningCsrSigningController> {
  const logger = options.logger ?? { info: console.error, warn: console.error };
  const client = new JsonApiClient(loadKubeConfig(options.kubeconfigPath), componentUserAgent('kube-controller-manager'));
  const latest = new Map<string, CertificateSigningRequest>();

  const sync = async (name: string): Promise<void> => {
    const csr = latest.get(name);
    if (!csr || csr.spec?.signerName !== KUBE_APISERVER_CLIENT_SIGNER || csr.status?.certificate) return;
    const conditions = csr.status?.conditions ?? [];
    const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
    if (!has('Approved') || has('Denied') || has('Failed')) return;
    const usages = csr.spec.usages ?? [];
    const problem = apiServerClientUsageProblem(usages);
    let status: CertificateSigningRequest['status'];
    if (problem) {
      status = { ...csr.status, conditions: [...conditions, { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem, lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] };
    } else {
      const parsed = parseCertificateRequest(Buffer.from(csr.spec.request ?? '', 'base64'));
      const pem = signCertificateRequest({ caCertPem: options.caCertPem, caKeyPem: options.caKeyPem }, {
        commonName: parsed.commonName, organizations: parsed.organizations, subjectPublicKeyInfo: parsed.subjectPublicKeyInfo, usages,
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

  const queue = new SyncQueue(sync, { workers: 2, onError: (key, err) => logger.warn(`csrsigning-controller: ${key}: ${err instanceof Error ? err.message : String(err)}`) });
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
