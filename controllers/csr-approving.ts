// The csrapproving controller (pkg/controller/certificates/approver/sarapprove.go): a pending request of
// the kubernetes.io/kube-apiserver-client-kubelet signer that is a valid kubelet client request
// (organization system:nodes, common name system:node:<name>, no SANs, client usages) is approved
// (`AutoApproved`) when a SubjectAccessReview for its requester allows `create` on
// certificatesigningrequests/selfnodeclient (a node renewing its own certificate: the requester is the
// request's common name) or certificatesigningrequests/nodeclient (a bootstrapping kubelet, e.g. a
// system:bootstrappers token bound to the nodeclient role). A request the review refuses is retried with
// backoff, as upstream's ignorable error, and not approved.

import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiStatusError, JsonApiClient } from '../clients/json-api-client.ts';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import { SyncQueue } from './framework/sync-queue.ts';
import { parseCertificateRequest, type ParsedCertificateRequest } from '../api/resources/csr-request.ts';
import { KUBE_APISERVER_CLIENT_KUBELET_SIGNER, kubeletClientProblem } from '../api/resources/csr-signer-checks.ts';
import type { ControllerLogger, RunningController } from './node-lifecycle.ts';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const SAR_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

interface Condition { type: string; status: string; reason?: string; message?: string }
interface CertificateSigningRequest extends KubernetesObject {
  spec?: {
    request?: string; signerName?: string; usages?: string[];
    username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]>;
  };
  status?: { conditions?: Condition[]; certificate?: string };
}

interface Recognizer {
  recognize(csr: CertificateSigningRequest, request: ParsedCertificateRequest): boolean;
  subresource: 'selfnodeclient' | 'nodeclient';
  successMessage: string;
}

/** isNodeClientCert. */
function isNodeClientCert(csr: CertificateSigningRequest, request: ParsedCertificateRequest): boolean {
  return csr.spec?.signerName === KUBE_APISERVER_CLIENT_KUBELET_SIGNER && kubeletClientProblem(request, csr.spec.usages ?? []) === undefined;
}

/** The recognizers in upstream's order: a node's own renewal first. */
export const RECOGNIZERS: readonly Recognizer[] = [
  {
    recognize: (csr, request) => csr.spec?.username === request.commonName && isNodeClientCert(csr, request),
    subresource: 'selfnodeclient',
    successMessage: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
  },
  {
    recognize: isNodeClientCert,
    subresource: 'nodeclient',
    successMessage: 'Auto approving kubelet client certificate after SubjectAccessReview.',
  },
];

/** What sarApprover.handle reports for a request no review allowed (retried). */
export class SubjectAccessReviewNotApproved extends Error {}

export interface CsrApprovingControllerOptions {
  kubeconfigPath: string;
  logger?: ControllerLogger;
}

export interface RunningCsrApprovingController extends RunningController {
  idle(): Promise<void>;
}

export async function runCsrApprovingController(options: CsrApprovingControllerOptions): Promise<RunningCsrApprovingController> {
  const logger = options.logger ?? { info: console.error, warn: console.error };
  const client = new JsonApiClient(loadKubeConfig(options.kubeconfigPath), componentUserAgent('kube-controller-manager'));
  const latest = new Map<string, CertificateSigningRequest>();

  /** sarApprover.authorize: the requester's identity as stamped into the request's spec. */
  const authorize = async (csr: CertificateSigningRequest, subresource: string): Promise<boolean> => {
    const spec = csr.spec ?? {};
    const review = await client.request<{ status?: { allowed?: boolean } }>('POST', SAR_PATH, {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
      spec: {
        user: spec.username ?? '', ...(spec.uid ? { uid: spec.uid } : {}), ...(spec.groups ? { groups: spec.groups } : {}),
        ...(spec.extra ? { extra: spec.extra } : {}),
        resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource },
      },
    });
    return review.status?.allowed === true;
  };

  const sync = async (name: string): Promise<void> => {
    const csr = latest.get(name);
    if (!csr?.spec || csr.status?.certificate) return;
    const conditions = csr.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Approved' || c.type === 'Denied')) return;
    let request: ParsedCertificateRequest;
    try {
      request = parseCertificateRequest(Buffer.from(csr.spec.request ?? '', 'base64'));
    } catch (err) {
      throw new Error(`unable to parse csr "${name}": ${err instanceof Error ? err.message : String(err)}`);
    }
    const tried: string[] = [];
    for (const recognizer of RECOGNIZERS) {
      if (!recognizer.recognize(csr, request)) continue;
      tried.push(recognizer.subresource);
      if (!(await authorize(csr, recognizer.subresource))) continue;
      const approved = {
        ...csr, status: { ...csr.status, conditions: [...conditions, { type: 'Approved', status: 'True', reason: 'AutoApproved', message: recognizer.successMessage }] },
      };
      try {
        await client.request('PUT', `${CSR_PATH}/${name}/approval`, approved);
      } catch (err) {
        // Deleted meanwhile, or changed: the informer brings the newer object.
        if (err instanceof ApiStatusError && (err.code === 404 || err.code === 409)) return;
        throw new Error(`error updating approval for csr: ${err instanceof Error ? err.message : String(err)}`);
      }
      return;
    }
    if (tried.length > 0) throw new SubjectAccessReviewNotApproved(`recognized csr "${name}" as [${tried.join(' ')}] but subject access review was not approved`);
  };

  const queue = new SyncQueue(sync, {
    workers: 5,
    onError: (key, err) => {
      const message = `csrapproving: ${key}: ${err instanceof Error ? err.message : String(err)}`;
      // An ignorable error: retried, logged only at a high verbosity upstream.
      if (err instanceof SubjectAccessReviewNotApproved) logger.info(message);
      else logger.warn(message);
    },
  });
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
