// The CertificateApproval and CertificateSigning admission plugins (plugin/pkg/admission/certificates/
// {approval,signing}): approving or denying a CertificateSigningRequest (an update of /approval) needs
// `approve`, and setting its certificate or conditions through /status needs `sign`, on the synthetic
// `signers` resource of certificates.k8s.io named after the request's signer, or after its domain with
// `/*` (`kubernetes.io/*`). The signer name is the stored request's, so a write cannot switch signers to
// pass the check.

import { isDeepStrictEqual } from 'node:util';
import type { AdmissionAttributes, ValidatingAdmission } from '../../api/admission.ts';
import { forbidden, type StatusError } from '../../api/errors.ts';
import { isPlainObject, type KubeObject } from '../../api/object.ts';
import { resourceAttributes, type Authorizer } from '../authorizer.ts';
import type { UserInfo } from '../user.ts';

export const CERTIFICATE_APPROVAL_PLUGIN_NAME = 'CertificateApproval';
export const CERTIFICATE_SIGNING_PLUGIN_NAME = 'CertificateSigning';

export const CERTIFICATES_GROUP = 'certificates.k8s.io';
const CSR_RESOURCE = 'certificatesigningrequests';

/** IsAuthorizedForSignerName: the verb on the signer's name, else on `<domain>/*`. */
export function isAuthorizedForSignerName(authorizer: Authorizer, user: UserInfo, verb: string, signerName: string): boolean {
  const allowed = (name: string) => authorizer.authorize(resourceAttributes(user, { verb, apiGroup: CERTIFICATES_GROUP, resource: 'signers', name })).decision === 'allow';
  return allowed(signerName) || allowed(`${signerName.split('/')[0]}/*`);
}

/** admission.NewForbidden for a request: `certificatesigningrequests.certificates.k8s.io "name" is forbidden: ...`. */
export function csrForbidden(attributes: AdmissionAttributes, why: string): StatusError {
  const qualified = `${CSR_RESOURCE}.${CERTIFICATES_GROUP}`;
  const name = attributes.name;
  return forbidden(name ? `${qualified} ${JSON.stringify(name)} is forbidden: ${why}` : `${qualified} is forbidden: ${why}`, { group: CERTIFICATES_GROUP, resource: CSR_RESOURCE }, name);
}

export function signerNameOf(csr: KubeObject | undefined): string {
  const spec = csr && isPlainObject(csr.spec) ? csr.spec : {};
  return typeof spec.signerName === 'string' ? spec.signerName : '';
}

const isCsrUpdate = (attributes: AdmissionAttributes, subresource: string): boolean =>
  attributes.operation === 'UPDATE' && attributes.group === CERTIFICATES_GROUP && attributes.resource === CSR_RESOURCE && attributes.subresource === subresource;

export class CertificateApprovalAdmission implements ValidatingAdmission {
  constructor(private readonly authorizer: Authorizer) {}

  validate(attributes: AdmissionAttributes): void {
    if (!isCsrUpdate(attributes, 'approval')) return;
    // The old object's signer: an attempt to change it through /approval is invalid anyway.
    const signerName = signerNameOf(attributes.oldObject);
    if (!isAuthorizedForSignerName(this.authorizer, attributes.user, 'approve', signerName)) {
      throw csrForbidden(attributes, `user not permitted to approve requests with signerName ${JSON.stringify(signerName)}`);
    }
  }
}

function statusOf(csr: KubeObject | undefined): { certificate: unknown; conditions: unknown[] } {
  const status = csr && isPlainObject(csr.status) ? csr.status : {};
  // Semantic equality: an empty certificate or list is the same as none.
  const certificate = status.certificate === '' ? undefined : status.certificate;
  return { certificate, conditions: Array.isArray(status.conditions) ? status.conditions : [] };
}

export class CertificateSigningAdmission implements ValidatingAdmission {
  constructor(private readonly authorizer: Authorizer) {}

  validate(attributes: AdmissionAttributes): void {
    if (!isCsrUpdate(attributes, 'status')) return;
    const before = statusOf(attributes.oldObject);
    const after = statusOf(attributes.object);
    // Only a change of the certificate or the conditions needs the permission.
    if (isDeepStrictEqual(before.certificate, after.certificate) && isDeepStrictEqual(before.conditions, after.conditions)) return;
    const signerName = signerNameOf(attributes.oldObject);
    if (!isAuthorizedForSignerName(this.authorizer, attributes.user, 'sign', signerName)) {
      throw csrForbidden(attributes, `user not permitted to sign requests with signerName ${JSON.stringify(signerName)}`);
    }
  }
}
