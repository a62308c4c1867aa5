// ValidateIngressSpec and friends (pkg/apis/networking/validation): defaultBackend or rules,
// hosts (DNS or wildcard names, never IPs), HTTP paths and their types, service or resource
// backends, TLS hosts and secret names, and the load-balancer status, worded as upstream.

import { isIP } from 'node:net';
import { invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject } from '../object.ts';
import { isDNS1035Label, isDNS1123Subdomain, isValidPortNum, maxLenError, nameIsPathSegment, regexError } from '../validation/names.ts';
import { ipErrors } from './network-validation.ts';

type Json = Record<string, unknown>;
const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const WILDCARD_FMT = '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const WILDCARD_MSG = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const objects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isPlainObject) : []);

/** IsWildcardDNS1123Subdomain. */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(value) > 253) errs.push(maxLenError(253));
  if (!new RegExp(`^${WILDCARD_FMT}$`).test(value)) errs.push(regexError(WILDCARD_MSG, WILDCARD_FMT, '*.example.com'));
  return errs;
}

/** IsValidPortName: an IANA_SVC_NAME. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** validateIngressTypedLocalObjectReference (resource backends, IngressClass parameters). */
export function validateTypedLocalObjectReference(ref: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof ref.apiGroup === 'string') errs.push(...isDNS1123Subdomain(ref.apiGroup).map((msg) => invalidField(`${path}.apiGroup`, ref.apiGroup, msg)));
  const kind = str(ref.kind);
  if (kind === '') errs.push(requiredField(`${path}.kind`, 'kind is required'));
  else errs.push(...nameIsPathSegment(kind, false).map((msg) => invalidField(`${path}.kind`, kind, msg)));
  const name = str(ref.name);
  if (name === '') errs.push(requiredField(`${path}.name`, 'name is required'));
  else errs.push(...nameIsPathSegment(name, false).map((msg) => invalidField(`${path}.name`, name, msg)));
  return errs;
}

function validateBackend(backend: Json, path: string): FieldError[] {
  const resource = isPlainObject(backend.resource) ? backend.resource : undefined;
  const service = isPlainObject(backend.service) ? backend.service : undefined;
  if (resource && service) return [invalidField(path, '', 'cannot set both resource and service backends')];
  if (resource) return validateTypedLocalObjectReference(resource, `${path}.resource`);
  if (!service) return [invalidField(path, '', 'resource or service backend is required')];
  const errs: FieldError[] = [];
  const name = str(service.name);
  if (name === '') errs.push(requiredField(`${path}.service.name`));
  else errs.push(...isDNS1035Label(name).map((msg) => invalidField(`${path}.service.name`, name, msg)));
  const port = isPlainObject(service.port) ? service.port : {};
  const portName = str(port.name);
  const portNumber = typeof port.number === 'number' ? port.number : 0;
  if (portName !== '' && portNumber !== 0) errs.push(invalidField(path, '', 'cannot set both port name & port number'));
  else if (portName !== '') errs.push(...isValidPortName(portName).map((msg) => invalidField(`${path}.service.port.name`, portName, msg)));
  else if (portNumber !== 0) errs.push(...isValidPortNum(portNumber).map((msg) => invalidField(`${path}.service.port.number`, portNumber, msg)));
  else errs.push(requiredField(path, 'port name or number is required'));
  return errs;
}

function validateHTTPPath(httpPath: Json, path: string): FieldError[] {
  const pathType = httpPath.pathType;
  if (pathType === undefined || pathType === null) return [requiredField(`${path}.pathType`, 'pathType must be specified')];
  const errs: FieldError[] = [];
  const value = str(httpPath.path);
  if (pathType === 'Exact' || pathType === 'Prefix') {
    if (!value.startsWith('/')) errs.push(invalidField(`${path}.path`, value, 'must be an absolute path'));
    if (value.length > 0) {
      for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(invalidField(`${path}.path`, value, `must not contain '${seq}'`));
      for (const suffix of INVALID_PATH_SUFFIXES) if (value.endsWith(suffix)) errs.push(invalidField(`${path}.path`, value, `cannot end with '${suffix}'`));
    }
  } else if (pathType === 'ImplementationSpecific') {
    if (value.length > 0 && !value.startsWith('/')) errs.push(invalidField(`${path}.path`, value, 'must be an absolute path'));
  } else {
    errs.push(notSupportedField(`${path}.pathType`, pathType, PATH_TYPES));
  }
  errs.push(...validateBackend(isPlainObject(httpPath.backend) ? httpPath.backend : {}, `${path}.backend`));
  return errs;
}

function hostErrors(host: string, path: string): FieldError[] {
  const messages = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  return messages.map((msg) => invalidField(path, host, msg));
}

export function validateIngressSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  const defaultBackend = isPlainObject(spec.defaultBackend) ? spec.defaultBackend : undefined;
  if (rules.length === 0 && !defaultBackend) errs.push(invalidField('spec', spec.rules ?? null, 'either `defaultBackend` or `rules` must be specified'));
  if (defaultBackend) errs.push(...validateBackend(defaultBackend, 'spec.defaultBackend'));
  rules.forEach((rule: unknown, i: number) => {
    const r = isPlainObject(rule) ? rule : {};
    const path = `spec.rules[${i}]`;
    const host = str(r.host);
    if (host !== '') {
      if (isIP(host) !== 0) errs.push(invalidField(`${path}.host`, host, 'must be a DNS name, not an IP address'));
      errs.push(...hostErrors(host, `${path}.host`));
    }
    if (isPlainObject(r.http)) {
      const paths = Array.isArray(r.http.paths) ? r.http.paths : [];
      if (paths.length === 0) errs.push(requiredField(`${path}.http.paths`));
      paths.forEach((p: unknown, j: number) => errs.push(...validateHTTPPath(isPlainObject(p) ? p : {}, `${path}.http.paths[${j}]`)));
    }
  });
  objects(spec.tls).forEach((tls, i) => {
    (Array.isArray(tls.hosts) ? tls.hosts.map(String) : []).forEach((host, j) => errs.push(...hostErrors(host, `spec.tls[${i}].hosts[${j}]`)));
    const secretName = str(tls.secretName);
    if (secretName !== '') errs.push(...isDNS1123Subdomain(secretName).map((msg) => invalidField(`spec.tls[${i}].secretName`, secretName, msg)));
  });
  if (typeof spec.ingressClassName === 'string') {
    errs.push(...isDNS1123Subdomain(spec.ingressClassName).map((msg) => invalidField('spec.ingressClassName', spec.ingressClassName, msg)));
  }
  return errs;
}

/** ValidateIngressLoadBalancerStatus. */
export function validateIngressLoadBalancerStatus(status: unknown): FieldError[] {
  const errs: FieldError[] = [];
  const loadBalancer = isPlainObject(status) && isPlainObject(status.loadBalancer) ? status.loadBalancer : {};
  objects(loadBalancer.ingress).forEach((ingress, i) => {
    const path = `status.loadBalancer.ingress[${i}]`;
    const ip = str(ingress.ip);
    if (ip !== '') errs.push(...ipErrors(ip).map((msg) => invalidField(`${path}.ip`, ip, msg)));
    const hostname = str(ingress.hostname);
    if (hostname !== '') {
      errs.push(...isDNS1123Subdomain(hostname).map((msg) => invalidField(`${path}.hostname`, hostname, msg)));
      if (isIP(hostname) !== 0) errs.push(invalidField(`${path}.hostname`, hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}
