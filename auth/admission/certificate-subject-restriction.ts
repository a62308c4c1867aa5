// The CertificateSubjectRestriction admission plugin (plugin/pkg/admission/certificates/subjectrestriction):
// a new request for the kubernetes.io/kube-apiserver-client signer may not ask for the system:masters
// organization (a certificate in that group would bypass authorization altogether).

import type { AdmissionAttributes, ValidatingAdmission } from '../../api/admission.ts';
import { isPlainObject } from '../../api/object.ts';
import { parseCertificateRequest } from '../../api/resources/csr-request.ts';
import { KUBE_APISERVER_CLIENT_SIGNER } from '../../api/resources/csr-signer-checks.ts';
import { CERTIFICATES_GROUP, csrForbidden, signerNameOf } from './certificate-signers.ts';

export const CERTIFICATE_SUBJECT_RESTRICTION_PLUGIN_NAME = 'CertificateSubjectRestriction';

export class CertificateSubjectRestrictionAdmission implements ValidatingAdmission {
  validate(attributes: AdmissionAttributes): void {
    if (attributes.operation !== 'CREATE' || attributes.group !== CERTIFICATES_GROUP || attributes.resource !== 'certificatesigningrequests' || attributes.subresource) return;
    const csr = attributes.object;
    if (signerNameOf(csr) !== KUBE_APISERVER_CLIENT_SIGNER) return;
    const spec = csr && isPlainObject(csr.spec) ? csr.spec : {};
    let organizations: string[];
    try {
      organizations = parseCertificateRequest(Buffer.from(typeof spec.request === 'string' ? spec.request : '', 'base64')).organizations;
    } catch (err) {
      throw csrForbidden(attributes, `failed to parse CSR: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (organizations.includes('system:masters')) {
      throw csrForbidden(attributes, `use of ${KUBE_APISERVER_CLIENT_SIGNER} signer with system:masters group is not allowed`);
    }
  }
}
