// certificates.k8s.io/v1 CertificateSigningRequest (csr) with /status and /approval: the
// requester's identity stamped into spec on create, spec immutable, status written only through
// its subresources (approval conditions through /approval, the certificate through /status),
// condition timestamps filled as upstream, ValidateCertificateSigningRequest* and
// printCertificateSigningRequest. The kube-apiserver-client signer is controllers/csr-signing.ts.

import { X509Certificate } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { duplicateField, forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../object.ts';
import type { RequestContext, ResourceStrategy } from '../resource.ts';
import { rfc3339 } from '../registry/object-meta.ts';
import { isDNS1123Label, isDNS1123Subdomain } from '../validation/names.ts';
import { SWAGGER_DOCS } from './column-descriptions.ts';
import { parseCertificateRequest } from './csr-request.ts';
import { age, ageColumn, column, list, nameColumn, num, str } from './printing.ts';
import { humanDuration } from './printing.ts';

type Json = Record<string, unknown>;
export const KEY_USAGES = ['any', 'cert sign', 'client auth', 'code signing', 'content commitment', 'crl sign', 'data encipherment',
  'decipher only', 'digital signature', 'email protection', 'encipher only', 'ipsec end system', 'ipsec tunnel', 'ipsec user',
  'key agreement', 'key encipherment', 'microsoft sgc', 'netscape sgc', 'ocsp signing', 's/mime', 'signing', 'server auth', 'timestamping'];
const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';
const TRUE_ONLY_TYPES = ['Approved', 'Denied'];

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

function conditionsOf(object: KubeObject): Json[] {
  return list(object, 'status', 'conditions');
}

/** ValidateSignerName: `example.com/signer-name`. */
export function validateSignerName(path: string, signerName: string): FieldError[] {
  if (signerName === '') return [requiredField(path)];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [invalidField(path, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, name] = segments;
  const errs: FieldError[] = [];
  if (domain.length > 253) errs.push({ type: 'FieldValueTooLong', field: path, message: 'Too long: may not be more than 253 bytes' });
  const labels = domain.split('.');
  for (const label of labels) {
    const problems = isDNS1123Label(label);
    if (problems.length > 0) {
      for (const problem of problems) errs.push(invalidField(path, domain, `validating label "${label}": ${problem}`));
      break;
    }
  }
  if (labels.length < 2) errs.push(invalidField(path, domain, 'should be a domain with at least two segments separated by dots'));
  if (name.length > 63) errs.push({ type: 'FieldValueTooLong', field: path, message: 'Too long: may not be more than 63 bytes' });
  for (const problem of isDNS1123Subdomain(name)) errs.push(invalidField(path, name, problem));
  return errs;
}

/** validateCertificate: PEM CERTIFICATE blocks only, each parsing. */
function certificateProblem(certificate: unknown): string | undefined {
  if (typeof certificate !== 'string' || certificate === '') return undefined;
  const pem = Buffer.from(certificate, 'base64').toString('latin1');
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)];
  if (blocks.length === 0) return 'must contain at least one CERTIFICATE PEM block';
  for (const block of blocks) {
    if (block[1] !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found "${block[1]}"`;
    if (/^[\w-]+:/m.test(block[2])) return 'no PEM block headers are permitted';
    try {
      new X509Certificate(block[0]);
    } catch (err) {
      return `x509: malformed certificate: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return undefined;
}

interface Options { allowSettingCertificate: boolean; allowSettingApproval: boolean }

function validate(csr: KubeObject, old: KubeObject | undefined, options: Options): FieldError[] {
  const errs: FieldError[] = [];
  const spec = specOf(csr);
  const request = typeof spec.request === 'string' ? Buffer.from(spec.request, 'base64') : Buffer.alloc(0);
  const oldSpec = old && isPlainObject(old.spec) ? old.spec : undefined;
  // Stored requests are not parsed again (the spec cannot change).
  if (!oldSpec) {
    try {
      parseCertificateRequest(request);
    } catch (err) {
      errs.push(invalidField('spec.request', spec.request ?? '', err instanceof Error ? err.message : String(err)));
    }
  }
  const usages = Array.isArray(spec.usages) ? spec.usages.map(String) : [];
  if (usages.length === 0) errs.push(requiredField('spec.usages'));
  const seen = new Set<string>();
  usages.forEach((usage, i) => {
    if (!KEY_USAGES.includes(usage)) errs.push(notSupportedField(`spec.usages[${i}]`, usage, KEY_USAGES));
    if (seen.has(usage)) errs.push(duplicateField(`spec.usages[${i}]`, usage));
    seen.add(usage);
  });
  const signerName = str(spec, 'signerName');
  if (signerName === LEGACY_UNKNOWN_SIGNER && oldSpec?.signerName !== LEGACY_UNKNOWN_SIGNER) {
    errs.push(invalidField('spec.signerName', signerName, 'the legacy signerName is not allowed via this API version'));
  } else {
    errs.push(...validateSignerName('spec.signerName', signerName));
  }
  const expiration = num(spec, 'expirationSeconds');
  if (expiration !== undefined && expiration < 600) errs.push(invalidField('spec.expirationSeconds', expiration, 'may not specify a duration less than 600 seconds (10 minutes)'));
  let approved = false;
  let denied = false;
  const types = new Set<string>();
  conditionsOf(csr).forEach((condition, i) => {
    const path = `status.conditions[${i}]`;
    const type = str(condition, 'type');
    if (type === '') errs.push(requiredField(`${path}.type`));
    const allowed = TRUE_ONLY_TYPES.includes(type) ? ['True'] : ['False', 'True', 'Unknown'];
    const status = str(condition, 'status');
    if (status === '') errs.push(requiredField(`${path}.status`));
    else if (!allowed.includes(status)) errs.push(notSupportedField(`${path}.status`, status, allowed));
    if (type === 'Approved') {
      approved = true;
      if (denied) errs.push(invalidField(`${path}.type`, type, 'Approved and Denied conditions are mutually exclusive'));
    } else if (type === 'Denied') {
      denied = true;
      if (approved) errs.push(invalidField(`${path}.type`, type, 'Approved and Denied conditions are mutually exclusive'));
    }
    if (types.has(type)) errs.push(duplicateField(`${path}.type`, type));
    types.add(type);
  });
  const certificate = csr.status && isPlainObject(csr.status) ? csr.status.certificate : undefined;
  const oldCertificate = old && isPlainObject(old.status) ? old.status.certificate : undefined;
  if (certificate !== oldCertificate) {
    const problem = certificateProblem(certificate);
    if (problem) errs.push(invalidField('status.certificate', '<certificate data>', problem));
  }
  if (!old) return errs;
  for (const type of ['Approved', 'Denied', 'Failed']) {
    const before = conditionsOf(old).filter((c) => c.type === type);
    const after = conditionsOf(csr).filter((c) => c.type === type);
    if (after.length < before.length) errs.push(forbiddenField('status.conditions', `updates may not remove a condition of type "${type}"`));
    if (!options.allowSettingApproval && type !== 'Failed' && after.length >= before.length) {
      if (after.length > before.length) errs.push(forbiddenField('status.conditions', `updates may not add a condition of type "${type}"`));
      else if (!isDeepStrictEqual(before, after)) errs.push(forbiddenField('status.conditions', `updates may not modify a condition of type "${type}"`));
    }
  }
  if ((certificate ?? '') !== (oldCertificate ?? '')) {
    if (!options.allowSettingCertificate) errs.push(forbiddenField('status.certificate', 'updates may not set certificate content'));
    else if (typeof oldCertificate === 'string' && oldCertificate !== '') errs.push(forbiddenField('status.certificate', 'updates may not modify existing certificate content'));
  }
  return errs;
}

/** populateConditionTimestamps: lastUpdateTime now when unset; lastTransitionTime kept while the status stays. */
function populateConditionTimestamps(csr: KubeObject, old: KubeObject, ctx: RequestContext): void {
  const now = rfc3339(ctx.now);
  for (const condition of conditionsOf(csr)) {
    if (!condition.lastUpdateTime) condition.lastUpdateTime = now;
    if (!condition.lastTransitionTime) {
      const previous = conditionsOf(old).find((c) => c.type === condition.type);
      condition.lastTransitionTime = previous && previous.status === condition.status && previous.lastTransitionTime ? previous.lastTransitionTime : now;
    }
  }
}

/** extractCSRStatus. */
function conditionText(csr: KubeObject): string {
  const types = new Set(conditionsOf(csr).map((c) => c.type));
  let text = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) text += ',Failed';
  if (str(csr, 'status', 'certificate')) text += ',Issued';
  return text;
}

/** csr.ExpirationSecondsToDuration, as printed. */
function requestedDuration(csr: KubeObject): string {
  const seconds = num(csr, 'spec', 'expirationSeconds');
  return seconds === undefined ? '<none>' : humanDuration(seconds * 1000);
}

export const certificateSigningRequestStrategy: ResourceStrategy = {
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  listKind: 'CertificateSigningRequestList',
  resource: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  shortNames: ['csr'],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'certificatesigningrequests',
  hasStatus: true,
  subresources: [{ name: 'approval', kind: 'CertificateSigningRequest', verbs: ['get', 'patch', 'update'] }],
  statusLikeSubresources: {
    approval: {
      prepareForUpdate(csr, old, ctx) {
        // Only the conditions change through /approval.
        csr.spec = deepCopy(old.spec);
        const status = isPlainObject(csr.status) ? csr.status : {};
        const oldStatus = isPlainObject(old.status) ? old.status : {};
        if (oldStatus.certificate === undefined) delete status.certificate;
        else status.certificate = oldStatus.certificate;
        csr.status = status;
        populateConditionTimestamps(csr, old, ctx);
      },
      validateUpdate: (csr, old) => validate(csr, old, { allowSettingCertificate: false, allowSettingApproval: true }),
    },
  },
  tracksGeneration: false,

  prepareForCreate(csr, ctx) {
    const spec = specOf(csr);
    // The requester's identity, whatever the body says.
    spec.username = ctx.user.username;
    if (ctx.user.uid) spec.uid = ctx.user.uid;
    else delete spec.uid;
    if (ctx.user.groups.length > 0) spec.groups = [...ctx.user.groups];
    else delete spec.groups;
    const extra = ctx.user.extra && Object.keys(ctx.user.extra).length > 0 ? ctx.user.extra : undefined;
    if (extra) spec.extra = deepCopy(extra);
    else delete spec.extra;
    csr.status = {};
  },
  prepareForUpdate(csr, old) {
    csr.spec = deepCopy(old.spec);
    if (old.status === undefined) delete csr.status;
    else csr.status = deepCopy(old.status);
  },
  prepareForStatusUpdate(csr, old, ctx) {
    csr.spec = deepCopy(old.spec);
    populateConditionTimestamps(csr, old, ctx);
  },
  // ValidateCertificateRequestName: any name will do.
  validateName: () => [],
  validate: (csr) => validate(csr, undefined, { allowSettingCertificate: false, allowSettingApproval: false }),
  validateUpdate: (csr, old) => validate(csr, old, { allowSettingCertificate: false, allowSettingApproval: false }),
  validateStatusUpdate: (csr, old) => validate(csr, old, { allowSettingCertificate: true, allowSettingApproval: false }),
  selectableFields: (csr) => ({ 'spec.signerName': str(csr, 'spec', 'signerName') }),
  selectableFieldNames: ['spec.signerName'],
  table: {
    columns: [
      nameColumn(),
      ageColumn(),
      column('SignerName', SWAGGER_DOCS['CertificateSigningRequestSpec.signerName']),
      column('Requestor', SWAGGER_DOCS['CertificateSigningRequestSpec.request']),
      column('RequestedDuration', SWAGGER_DOCS['CertificateSigningRequestSpec.expirationSeconds']),
      column('Condition', SWAGGER_DOCS['CertificateSigningRequestStatus.conditions']),
    ],
    cells: (csr, now) => [
      csr.metadata.name ?? '', age(csr.metadata.creationTimestamp, now), str(csr, 'spec', 'signerName') || '<none>',
      str(csr, 'spec', 'username'), requestedDuration(csr), conditionText(csr),
    ],
  },
};
