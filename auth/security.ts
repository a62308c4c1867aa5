// Everything that makes the API server kube-apiserver-secure, assembled in one place: authentication
// (client certificates, kubefacade JWTs, the --token-auth-file, the admin token, optional anonymous),
// authorization (system:masters, then Node, then RBAC), admission (NodeRestriction, RBAC escalation
// prevention), the bootstrap RBAC policy reconciled at every start, the in-server clusterrole
// aggregation controller, and the audit log.

import { AdmissionChain, type MutatingAdmission, type ValidatingAdmission } from '../api/admission.ts';
import { ServiceAllocationAdmission, type ServiceAllocators } from '../api/admission-plugins/service-allocation.ts';
import { LimitRangerAdmission, type LimitRangeLister } from '../api/admission-plugins/limit-ranger.ts';
import { DefaultIngressClassAdmission, DefaultStorageClassAdmission } from '../api/admission-plugins/default-class.ts';
import { ResourceQuotaAdmission } from '../api/admission-plugins/resource-quota.ts';
import { SERVICE_ACCOUNT_PLUGIN_NAME, ServiceAccountAdmission, type ServiceAccountGetter } from '../api/admission-plugins/service-account.ts';
import { PRIORITY_PLUGIN_NAME, PriorityAdmission } from '../api/admission-plugins/priority.ts';
import { RUNTIME_CLASS_PLUGIN_NAME, RuntimeClassAdmission } from '../api/admission-plugins/runtime-class.ts';
import type { ApiRegistry } from '../api/registry/registry.ts';
import { ADMIN_SYSTEM_USER } from '../api/registry/system-user.ts';
import type { Storage } from '../storage/interface.ts';
import { ADMIN_USER } from './admin-credential.ts';
import { AuditLog, type AuditLogRotation } from './audit-log.ts';
import { loadAuditPolicy, METADATA_FOR_EVERYTHING, type AuditPolicy } from './audit-policy.ts';
import { startAdmissionSources } from './admission/sources.ts';
import { ValidatingAdmissionPolicyAdmission } from './admission/policy-admission.ts';
import {
  CERTIFICATE_APPROVAL_PLUGIN_NAME, CERTIFICATE_SIGNING_PLUGIN_NAME, CertificateApprovalAdmission, CertificateSigningAdmission,
} from './admission/certificate-signers.ts';
import { CERTIFICATE_SUBJECT_RESTRICTION_PLUGIN_NAME, CertificateSubjectRestrictionAdmission } from './admission/certificate-subject-restriction.ts';
import { WebhookAdmission } from './admission/webhook-admission.ts';
import { PUBLIC_INFO_PATHS, RequestAuthentication, UnionAuthenticator, type RequestAuthenticator } from './authenticator.ts';
import { PrivilegedGroupAuthorizer, UnionAuthorizer, UnionRuleResolver, type Authorizer, type RuleResolver } from './authorizer.ts';
import { CredentialIssuer } from './credentials.ts';
import { JwtAuthenticator } from './jwt-tokens.ts';
import { NodeAuthorizer } from './node/node-authorizer.ts';
import { NodeRestrictionAdmission } from './node/node-restriction.ts';
import { PodNodeIndex } from './node/pod-node-index.ts';
import type { Pki } from './pki.ts';
import { ClusterRoleAggregationController } from './rbac/aggregation-controller.ts';
import { bootstrapClusterRoleBindings } from './rbac/bootstrap-bindings.ts';
import { bootstrapClusterRoles, NODE_RULES } from './rbac/bootstrap-roles.ts';
import { RbacEscalationAdmission } from './rbac/escalation-admission.ts';
import { PolicyCache } from './rbac/policy-cache.ts';
import { RbacAuthorizer } from './rbac/rbac-authorizer.ts';
import { reconcileClusterRoleBindings, reconcileClusterRoles } from './rbac/reconcile.ts';
import { ServiceAccountTokenAuthenticator } from './service-account-tokens.ts';
import { ensureSigningKey, type SigningKey } from './signing-key.ts';
import { UidIndex } from './uid-index.ts';
import { loadTokenFile } from './token-file.ts';
import { StaticTokenAuthenticator } from './token-authenticator.ts';
import { SYSTEM_MASTERS_GROUP } from './well-known.ts';
import { X509Authenticator } from './x509-authenticator.ts';

export interface SecurityOptions {
  dataDir: string;
  pki: Pick<Pki, 'caCertPem' | 'caKeyPem'>;
  adminToken: string;
  /** The JWT key, when its creation was started early (it overlaps with the PKI at first start). */
  signingKey?: Promise<SigningKey>;
  /** kube-apiserver's --token-auth-file. */
  tokenAuthFile?: string;
  /** kube-apiserver's --anonymous-auth (off unless asked for). */
  anonymousAuth?: boolean;
  /**
   * Requests without credentials may read /healthz, /livez, /readyz and /version (as system:anonymous,
   * authorized by the system:public-info-viewer binding) even without anonymousAuth. Default true.
   */
  anonymousPublicInfo?: boolean;
  /** kube-apiserver's --audit-log-path; undefined: no audit log. */
  auditLogPath?: string;
  /** --audit-policy-file (audit.k8s.io/v1 Policy); without it every request is logged at Metadata. */
  auditPolicyFile?: string;
  /** --audit-log-maxsize/maxbackup/maxage. */
  auditLogRotation?: AuditLogRotation;
  registry: ApiRegistry;
  storage: Storage;
  /** The cluster IP and node port allocators services draw from (none: addresses are not allocated). */
  serviceAllocators?: ServiceAllocators;
  /** kube-apiserver's --disable-admission-plugins (e.g. ServiceAccount). */
  disableAdmissionPlugins?: string[];
  /** Where background failures (the aggregation controller) are reported. */
  onError?: (error: unknown) => void;
}

/** What the HTTP layer needs per request. */
export interface RequestSecurity {
  authentication: RequestAuthentication;
  authorizer: Authorizer;
  ruleResolver: RuleResolver;
  audit?: AuditLog;
  auditPolicy?: AuditPolicy;
}

export interface Security extends RequestSecurity {
  credentials: CredentialIssuer;
  stop(): Promise<void>;
}

export async function startSecurity(options: SecurityOptions): Promise<Security> {
  // A policy file that does not load stops the start, before anything else is set up.
  const auditPolicy = options.auditPolicyFile ? await loadAuditPolicy(options.auditPolicyFile) : METADATA_FOR_EVERYTHING;
  const signingKey = await (options.signingKey ?? ensureSigningKey(options.dataDir));
  const serviceAccounts = await UidIndex.start(options.storage, '/registry/serviceaccounts/');
  const podUids = await UidIndex.start(options.storage, '/registry/pods/');
  const authenticators: RequestAuthenticator[] = [
    new X509Authenticator(), new JwtAuthenticator(signingKey), new ServiceAccountTokenAuthenticator(signingKey, serviceAccounts, podUids),
  ];
  if (options.tokenAuthFile) authenticators.push(new StaticTokenAuthenticator(await loadTokenFile(options.tokenAuthFile)));
  authenticators.push(new StaticTokenAuthenticator([{ token: options.adminToken, user: ADMIN_USER }]));
  const authentication = new RequestAuthentication(new UnionAuthenticator(authenticators), options.anonymousAuth ?? false,
    options.anonymousPublicInfo === false ? new Set() : PUBLIC_INFO_PATHS);

  const policy = await PolicyCache.start(options.storage);
  const pods = await PodNodeIndex.start(options.storage);
  const rbac = new RbacAuthorizer(policy);
  const node = new NodeAuthorizer(pods, NODE_RULES);
  const authorizer = new UnionAuthorizer([new PrivilegedGroupAuthorizer([SYSTEM_MASTERS_GROUP]), node, rbac]);
  const ruleResolver = new UnionRuleResolver([node, rbac]);
  const admission = await startAdmissionSources(options.storage, options.onError);
  const namespaceLabels = async (namespace: string): Promise<Record<string, string> | undefined> => {
    const stored = await options.storage.get(`/registry/namespaces/${namespace}`);
    return stored?.metadata.labels;
  };
  // kube-apiserver's recommended order: mutating LimitRanger, ServiceAccount, Priority, RuntimeClass, then
  // MutatingAdmissionWebhook; after validation, LimitRanger, NodeRestriction, Priority, RuntimeClass,
  // CertificateApproval, CertificateSigning, CertificateSubjectRestriction, RBAC escalation,
  // ValidatingAdmissionPolicy, ValidatingAdmissionWebhook and ResourceQuota last.
  const disabled = new Set(options.disableAdmissionPlugins ?? []);
  const mutating: MutatingAdmission[] = [];
  const limitRanger = disabled.has('LimitRanger') ? undefined : new LimitRangerAdmission(limitRangeLister(options.storage));
  if (limitRanger) mutating.push(limitRanger);
  if (!disabled.has(SERVICE_ACCOUNT_PLUGIN_NAME)) mutating.push(new ServiceAccountAdmission(serviceAccountGetter(options.registry)));
  const priority = disabled.has(PRIORITY_PLUGIN_NAME) ? undefined
    : new PriorityAdmission(async () => (await options.storage.list('/registry/priorityclasses/')).items);
  const runtimeClass = disabled.has(RUNTIME_CLASS_PLUGIN_NAME) ? undefined
    : new RuntimeClassAdmission(async (name) => (await options.storage.get(`/registry/runtimeclasses/${name}`)) ?? undefined);
  if (priority) mutating.push(priority);
  if (runtimeClass) mutating.push(runtimeClass);
  // DefaultStorageClass and DefaultIngressClass come after ServiceAccount in kube-apiserver's order.
  if (!disabled.has('DefaultStorageClass')) {
    mutating.push(new DefaultStorageClassAdmission(async () => (await options.storage.list('/registry/storageclasses/')).items));
  }
  if (!disabled.has('DefaultIngressClass')) {
    mutating.push(new DefaultIngressClassAdmission(async () => (await options.storage.list('/registry/ingressclasses/')).items));
  }
  mutating.push(new WebhookAdmission(true, admission.mutatingWebhooks, namespaceLabels));
  const validating: ValidatingAdmission[] = [
    ...(limitRanger ? [limitRanger] : []), new NodeRestrictionAdmission(),
    ...(priority ? [priority] : []), ...(runtimeClass ? [runtimeClass] : []),
    ...(disabled.has(CERTIFICATE_APPROVAL_PLUGIN_NAME) ? [] : [new CertificateApprovalAdmission(authorizer)]),
    ...(disabled.has(CERTIFICATE_SIGNING_PLUGIN_NAME) ? [] : [new CertificateSigningAdmission(authorizer)]),
    ...(disabled.has(CERTIFICATE_SUBJECT_RESTRICTION_PLUGIN_NAME) ? [] : [new CertificateSubjectRestrictionAdmission()]),
    new RbacEscalationAdmission(policy, authorizer),
    new ValidatingAdmissionPolicyAdmission(admission.policies, admission.bindings, options.registry, namespaceLabels),
    new WebhookAdmission(false, admission.validatingWebhooks, namespaceLabels),
  ];
  if (!disabled.has('ResourceQuota')) validating.push(new ResourceQuotaAdmission(options.storage));
  // Service address allocation stands for the Service REST storage's BeginCreate/BeginUpdate: it runs
  // after every admission plugin has accepted the write, so it stays last.
  if (options.serviceAllocators) validating.push(new ServiceAllocationAdmission(options.serviceAllocators));
  options.registry.setAdmission(new AdmissionChain(validating, mutating));

  let aggregation: ClusterRoleAggregationController | undefined;
  let audit: AuditLog | undefined;
  try {
    const ctx = { user: ADMIN_SYSTEM_USER, namespace: '', now: new Date() };
    const clusterRoles = options.registry.lookup('rbac.authorization.k8s.io', 'v1', 'clusterroles');
    const clusterRoleBindings = options.registry.lookup('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings');
    if (!clusterRoles || !clusterRoleBindings) throw new Error('the RBAC resources are not registered');
    await reconcileClusterRoles(clusterRoles, ctx, bootstrapClusterRoles());
    await reconcileClusterRoleBindings(clusterRoleBindings, ctx, bootstrapClusterRoleBindings());
    aggregation = new ClusterRoleAggregationController(policy, clusterRoles, ADMIN_SYSTEM_USER, options.onError);
    aggregation.start();
    await aggregation.settle();
    if (options.auditLogPath) audit = await AuditLog.open(options.auditLogPath, options.auditLogRotation);
  } catch (err) {
    aggregation?.stop();
    policy.stop();
    pods.stop();
    admission.stop();
    serviceAccounts.stop();
    podUids.stop();
    throw err;
  }

  return {
    authentication, authorizer, ruleResolver, audit, auditPolicy,
    credentials: new CredentialIssuer(options.pki, signingKey),
    async stop() {
      aggregation?.stop();
      policy.stop();
      pods.stop();
      admission.stop();
      serviceAccounts.stop();
      podUids.stop();
      options.registry.setAdmission(undefined);
      await audit?.close();
    },
  };
}

/** Service-account reads for the ServiceAccount admission plugin, straight from storage. */
function serviceAccountGetter(registry: ApiRegistry): ServiceAccountGetter {
  return async (namespace, name) => {
    const store = registry.lookup('', 'v1', 'serviceaccounts');
    if (!store) return undefined;
    return (await store.storage.get(store.key(namespace, name))) ?? undefined;
  };
}

/** The LimitRanges of a namespace for the LimitRanger plugin, straight from storage. */
function limitRangeLister(storage: Storage): LimitRangeLister {
  return async (namespace) => (await storage.list(`/registry/limitranges/${namespace}/`)).items;
}
