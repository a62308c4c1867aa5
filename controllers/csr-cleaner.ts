// The csrcleaner controller (pkg/controller/certificates/cleaner): every hour it goes through the cached
// CertificateSigningRequests and deletes those that are done with: issued (approved, with a certificate)
// or denied or failed more than an hour ago (by the condition's lastUpdateTime), pending (no condition)
// for more than a day since creation, or issued with a certificate that has expired.

import { X509Certificate } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiStatusError, JsonApiClient } from '../clients/json-api-client.ts';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import type { ControllerLogger, RunningController } from './node-lifecycle.ts';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const HOUR_MS = 3_600_000;
/** pollingInterval. */
export const CSR_CLEANER_POLLING_INTERVAL_MS = HOUR_MS;
const APPROVED_EXPIRATION_MS = HOUR_MS;
const DENIED_EXPIRATION_MS = HOUR_MS;
const PENDING_EXPIRATION_MS = 24 * HOUR_MS;

interface Condition { type: string; lastUpdateTime?: string }
interface CertificateSigningRequest extends KubernetesObject {
  status?: { conditions?: Condition[]; certificate?: string };
}

/** isOlderThan: a set time more than `ms` before now. */
function isOlderThan(time: string | undefined, ms: number, now: number): boolean {
  const at = time ? Date.parse(time) : NaN;
  return !Number.isNaN(at) && at - now < -ms;
}

/** isExpired: the first certificate of status.certificate is past its NotAfter (unreadable: not expired). */
function certificateExpired(certificate: string, now: number): boolean {
  try {
    const pem = Buffer.from(certificate, 'base64').toString('latin1');
    const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem);
    return block !== null && now > Date.parse(new X509Certificate(block[0]).validTo);
  } catch {
    return false;
  }
}

/** Why the cleaner deletes the request (upstream's log line), or undefined to keep it. */
export function cleanupReason(csr: CertificateSigningRequest, now: number): string | undefined {
  const conditions = csr.status?.conditions ?? [];
  const issued = Boolean(csr.status?.certificate);
  const approved = conditions.filter((c) => c.type === 'Approved');
  if (issued && approved.some((c) => isOlderThan(c.lastUpdateTime, APPROVED_EXPIRATION_MS, now))) return 'Cleaning CSR as it is more than approvedExpiration duration old and approved.';
  if (conditions.some((c) => c.type === 'Denied' && isOlderThan(c.lastUpdateTime, DENIED_EXPIRATION_MS, now))) return 'Cleaning CSR as it is more than deniedExpiration duration old and denied.';
  if (conditions.some((c) => c.type === 'Failed' && isOlderThan(c.lastUpdateTime, DENIED_EXPIRATION_MS, now))) return 'Cleaning CSR as it is more than deniedExpiration duration old and failed.';
  // Lean informers hand over the JSON as sent: the timestamp is the RFC 3339 string, whatever client-node's type says.
  const created: unknown = csr.metadata?.creationTimestamp;
  if (conditions.length === 0 && isOlderThan(typeof created === 'string' ? created : undefined, PENDING_EXPIRATION_MS, now)) {
    return 'Cleaning CSR as it is more than pendingExpiration duration old and unhandled.';
  }
  if (issued && approved.length > 0 && certificateExpired(csr.status?.certificate ?? '', now)) return 'Cleaning CSR as the associated certificate is expired.';
  return undefined;
}

export interface CsrCleanerControllerOptions {
  kubeconfigPath: string;
  logger?: ControllerLogger;
  /** A controlled clock (tests): milliseconds since the epoch. */
  now?: () => number;
  /** Between passes (default an hour, as upstream). */
  pollingIntervalMs?: number;
}

export interface RunningCsrCleanerController extends RunningController {
  /** One pass over the cache now. */
  clean(): Promise<void>;
}

export async function runCsrCleanerController(options: CsrCleanerControllerOptions): Promise<RunningCsrCleanerController> {
  const logger = options.logger ?? { info: console.error, warn: console.error };
  const now = options.now ?? Date.now;
  const client = new JsonApiClient(loadKubeConfig(options.kubeconfigPath), componentUserAgent('kube-controller-manager'));
  const cache = new Map<string, CertificateSigningRequest>();
  const remember = (csr: CertificateSigningRequest) => cache.set(csr.metadata?.name ?? '', csr);
  const log = { info: (m: string) => logger.info(m), error: (m: string) => logger.warn(m) };
  const informer: LeanInformer = startLeanInformer<CertificateSigningRequest>(client, CSR_PATH, undefined, {
    add: remember,
    update: remember,
    delete: (csr) => cache.delete(csr.metadata?.name ?? ''),
  }, log);
  await informer.synced;

  let running: Promise<void> | undefined;
  const clean = (): Promise<void> => {
    running ??= (async () => {
      for (const [name, csr] of [...cache]) {
        const reason = cleanupReason(csr, now());
        if (!reason) continue;
        logger.info(`csrcleaner: ${reason} csr="${name}"`);
        try {
          await client.request('DELETE', `${CSR_PATH}/${encodeURIComponent(name)}`);
        } catch (err) {
          if (err instanceof ApiStatusError && err.code === 404) continue;
          logger.warn(`csrcleaner: Error while attempting to clean CSR csr="${name}": unable to delete CSR "${name}": ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    })().finally(() => { running = undefined; });
    return running;
  };
  // wait.Until: a first pass at once, then one per interval.
  void clean();
  const timer = setInterval(() => void clean(), options.pollingIntervalMs ?? CSR_CLEANER_POLLING_INTERVAL_MS);
  timer.unref();
  return {
    clean,
    async stop() {
      clearInterval(timer);
      await running;
      await informer.stop();
      client.close();
    },
  };
}
