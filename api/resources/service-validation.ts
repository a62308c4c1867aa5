// Service defaulting and validation, worded as pkg/apis/core/v1/defaults.go (SetDefaults_Service) and
// pkg/apis/core/validation (ValidateService, ValidateServiceUpdate). Address and port allocation are
// not here: the registry's service allocation (api/registry/service-allocation.ts) does them.

import { duplicateField, forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { isDNS1123Subdomain, isValidLabelValue, isQualifiedName, isValidPortNum } from '../validation/names.ts';
import { ipErrors, ipFamily, SUPPORTED_PROTOCOLS, validatePortName, validatePortNumber } from './network-validation.ts';
import { list, str } from './printing.ts';

type Json = Record<string, unknown>;
export const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;
const MAX_CLIENT_IP_TIMEOUT_SECONDS = 86400;

export function serviceSpec(service: KubeObject): Json {
  if (!isPlainObject(service.spec)) service.spec = {};
  return service.spec as Json;
}

export function isHeadless(spec: Json): boolean {
  return spec.clusterIP === 'None';
}

/** SetDefaults_Service (the parts that do not need the allocator). */
export function applyServiceDefaults(service: KubeObject): void {
  const spec = serviceSpec(service);
  spec.sessionAffinity ||= 'None';
  // `externalName` is omitempty in the Go type: "" (as a client clearing it sends) is not stored.
  if (spec.externalName === '') delete spec.externalName;
  spec.type ||= 'ClusterIP';
  for (const port of list(spec, 'ports')) {
    port.protocol ||= 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ||= 'Cluster';
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ||= 'Cluster';
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true;
  // A config without ClientIP affinity is dropped (SetDefaults_Service): switching to None needs no other change.
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const config = isPlainObject(spec.sessionAffinityConfig) ? spec.sessionAffinityConfig : {};
    const clientIP = isPlainObject(config.clientIP) ? config.clientIP : {};
    clientIP.timeoutSeconds ??= DEFAULT_CLIENT_IP_TIMEOUT_SECONDS;
    config.clientIP = clientIP;
    spec.sessionAffinityConfig = config;
  }
  // clusterIP and clusterIPs[0] agree (the registry's normalization).
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && !Array.isArray(spec.clusterIPs)) spec.clusterIPs = [spec.clusterIP];
  if ((spec.clusterIP === undefined || spec.clusterIP === '') && Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === 'string') spec.clusterIP = spec.clusterIPs[0];
}

function validatePorts(spec: Json, type: string): FieldError[] {
  const errs: FieldError[] = [];
  const ports = list(spec, 'ports');
  if (ports.length === 0 && !isHeadless(spec) && type !== 'ExternalName') errs.push(requiredField('spec.ports'));
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((port, i) => {
    const path = `spec.ports[${i}]`;
    const name = str(port, 'name');
    if (ports.length > 1 && !name) errs.push(requiredField(`${path}.name`));
    else if (name) {
      errs.push(...validatePortName(`${path}.name`, name));
      if (names.has(name)) errs.push(duplicateField(`${path}.name`, name));
      names.add(name);
    }
    errs.push(...validatePortNumber(`${path}.port`, port.port));
    const protocol = str(port, 'protocol');
    if (!protocol) errs.push(requiredField(`${path}.protocol`));
    else if (!SUPPORTED_PROTOCOLS.includes(protocol)) errs.push(notSupportedField(`${path}.protocol`, protocol, SUPPORTED_PROTOCOLS));
    const target = port.targetPort;
    if (typeof target === 'number') {
      if (target < 1 || target > 65535) errs.push(invalidField(`${path}.targetPort`, target, 'must be between 1 and 65535, inclusive'));
    } else if (typeof target === 'string') {
      if (!/^[-a-z0-9]+$/.test(target) || !/[a-z]/.test(target) || target.length > 15) {
        errs.push(invalidField(`${path}.targetPort`, target, "must contain only alpha-numerics and '-'"));
      }
    }
    const nodePort = port.nodePort;
    if (typeof nodePort === 'number' && nodePort !== 0) {
      if (type === 'ClusterIP') errs.push(forbiddenField(`${path}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      else if (nodePort < 1 || nodePort > 65535) errs.push(invalidField(`${path}.nodePort`, nodePort, 'must be between 1 and 65535, inclusive'));
    }
    const key = `${protocol}/${String(port.port)}`;
    if (seen.has(key)) errs.push(duplicateField(path, `{Protocol:"${protocol}", Port:${String(port.port)}}`));
    seen.add(key);
  });
  return errs;
}

export function validateService(service: KubeObject): FieldError[] {
  const spec = serviceSpec(service);
  const type = str(spec, 'type');
  const errs: FieldError[] = [];
  if (!SERVICE_TYPES.includes(type)) errs.push(notSupportedField('spec.type', type, SERVICE_TYPES));
  if (type === 'ExternalName') {
    const externalName = str(spec, 'externalName');
    if (!externalName) errs.push(requiredField('spec.externalName'));
    else for (const msg of isDNS1123Subdomain(externalName.replace(/\.$/, ''))) errs.push(invalidField('spec.externalName', externalName, msg));
    if (str(spec, 'clusterIP') || (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0)) {
      errs.push(forbiddenField('spec.clusterIPs', 'may not be set for ExternalName services'));
    }
    if (Array.isArray(spec.ipFamilies) && spec.ipFamilies.length > 0) errs.push(forbiddenField('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errs.push(forbiddenField('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
  }
  errs.push(...validateClusterIPsRelatedFields(spec));
  if (isHeadless(spec) && type !== 'ClusterIP' && type !== 'ExternalName') {
    errs.push(invalidField('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  }
  errs.push(...validatePorts(spec, type));
  const affinity = str(spec, 'sessionAffinity');
  if (affinity && !SESSION_AFFINITIES.includes(affinity)) errs.push(notSupportedField('spec.sessionAffinity', affinity, SESSION_AFFINITIES));
  if (affinity === 'ClientIP') {
    // validateClientIPAffinityConfig (defaulting has filled in a missing timeout).
    const clientIP = isPlainObject(spec.sessionAffinityConfig) && isPlainObject(spec.sessionAffinityConfig.clientIP) ? spec.sessionAffinityConfig.clientIP : {};
    const timeout = clientIP.timeoutSeconds;
    if (typeof timeout === 'number' && (timeout <= 0 || timeout > MAX_CLIENT_IP_TIMEOUT_SECONDS)) {
      errs.push(invalidField('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_TIMEOUT_SECONDS}`));
    }
  }
  for (const key of ['externalTrafficPolicy', 'internalTrafficPolicy']) {
    const policy = str(spec, key);
    if (policy && !TRAFFIC_POLICIES.includes(policy)) errs.push(notSupportedField(`spec.${key}`, policy, TRAFFIC_POLICIES));
  }
  if ((type === 'ClusterIP' || type === 'ExternalName') && str(spec, 'externalTrafficPolicy')) {
    errs.push(invalidField('spec.externalTrafficPolicy', str(spec, 'externalTrafficPolicy'), 'may only be set for externally-accessible services'));
  }
  errs.push(...validateHealthCheckNodePort(spec));
  const selector = isPlainObject(spec.selector) ? spec.selector : {};
  for (const [key, value] of Object.entries(selector)) {
    for (const msg of isQualifiedName(key)) errs.push(invalidField('spec.selector', key, msg));
    for (const msg of isValidLabelValue(String(value))) errs.push(invalidField(`spec.selector`, value, msg));
  }
  (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).forEach((ip, i) => {
    for (const msg of ipErrors(String(ip))) errs.push(invalidField(`spec.externalIPs[${i}]`, ip, msg));
  });
  return errs;
}

/**
 * ValidateServiceUpdate. The clusterIPs and ipFamilies rules (validateUpgradeDowngradeClusterIPs/IPFamilies) need
 * the families and addresses the allocation step fills in, so that step runs them (validateUpgradeDowngrade).
 */
export function validateServiceUpdate(service: KubeObject, _old: KubeObject): FieldError[] {
  return validateService(service);
}

/** `%#v` of a Go []string, as field errors print list values. */
export function goStrings(values: unknown[]): string {
  return `[]string{${values.map((v) => JSON.stringify(String(v))).join(', ')}}`;
}

/** `%#v` of the internal []core.IPFamily. */
function goFamilies(values: unknown[]): string {
  return `[]core.IPFamily{${values.map((v) => JSON.stringify(String(v))).join(', ')}}`;
}

function invalidList(field: string, formatted: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, message: `Invalid value: ${formatted}: ${detail}` };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** A nil *IPFamilyPolicy prints as null, a set one as its quoted value. */
function policyValue(spec: Json): string | null {
  return typeof spec.ipFamilyPolicy === 'string' ? spec.ipFamilyPolicy : null;
}

/** needsHealthCheck: LoadBalancer with externalTrafficPolicy Local. */
export function needsHealthCheck(spec: Json): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

/**
 * validateServiceExternalTrafficPolicy's healthCheckNodePort rules. Upstream also requires the field when a health
 * check is needed; here validation runs before the allocation step that fills it in, so that rule cannot fail.
 */
function validateHealthCheckNodePort(spec: Json): FieldError[] {
  const port = spec.healthCheckNodePort;
  if (port === undefined || port === null || port === 0) return [];
  if (!needsHealthCheck(spec)) return [invalidField('spec.healthCheckNodePort', port, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'")];
  if (typeof port !== 'number') return [invalidField('spec.healthCheckNodePort', port, 'must be between 1 and 65535, inclusive')];
  return isValidPortNum(port).map((msg) => invalidField('spec.healthCheckNodePort', port, msg));
}

/** ValidateServiceClusterIPsRelatedFields: clusterIP/clusterIPs agreement, families, policy, dual-stack shape. */
export function validateClusterIPsRelatedFields(spec: Json): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const clusterIPs = stringList(spec.clusterIPs);
  const clusterIP = str(spec, 'clusterIP');
  if (clusterIP) {
    if (clusterIPs.length === 0) errs.push(requiredField('spec.clusterIPs'));
    else if (clusterIPs[0] !== clusterIP) errs.push(invalidList('spec.clusterIPs', goStrings(clusterIPs), 'first value must match `clusterIP`'));
  } else if (clusterIPs.length > 0) {
    errs.push(invalidList('spec.clusterIPs', goStrings(clusterIPs), 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  stringList(spec.ipFamilies).forEach((family, i) => {
    if (!IP_FAMILIES.includes(family)) errs.push(notSupportedField(`spec.ipFamilies[${i}]`, family, IP_FAMILIES));
    if (seen.has(family)) errs.push(duplicateField(`spec.ipFamilies[${i}]`, family));
    seen.add(family);
  });
  const policy = policyValue(spec);
  if (policy !== null && !IP_FAMILY_POLICIES.includes(policy)) errs.push(notSupportedField('spec.ipFamilyPolicy', policy, IP_FAMILY_POLICIES));
  let hasInvalidIPs = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) {
        hasInvalidIPs = true;
        errs.push(invalidList('spec.clusterIPs', goStrings(clusterIPs), "'None' must be the first and only value"));
      }
      return;
    }
    const messages = ipErrors(ip);
    if (messages.length > 0) hasInvalidIPs = true;
    for (const msg of messages) errs.push(invalidField(`spec.clusterIPs[${i}]`, ip, msg));
  });
  if (clusterIPs.length > 2) errs.push(invalidList('spec.clusterIPs', goStrings(clusterIPs), 'may only hold up to 2 values'));
  if (hasInvalidIPs) return errs;
  if (clusterIPs.length > 1) {
    const families = new Set(clusterIPs.map(ipFamily));
    if (families.size !== 2 || clusterIPs.length !== 2) errs.push(invalidList('spec.clusterIPs', goStrings(clusterIPs), 'may specify no more than one IP for each IP family'));
  }
  const families = stringList(spec.ipFamilies);
  if (!(clusterIPs.length === 1 && clusterIPs[0] === 'None') && clusterIPs.length > 0 && families.length > 0) {
    clusterIPs.forEach((ip, i) => {
      if (i >= families.length) return;
      if (families[i] === 'IPv4' && ipFamily(ip) === 'IPv6') errs.push(invalidField(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && ipFamily(ip) !== 'IPv6') errs.push(invalidField(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

function isHeadlessIPs(spec: Json): boolean {
  const ips = stringList(spec.clusterIPs);
  return ips.length === 1 && ips[0] === 'None';
}

/** validateUpgradeDowngradeClusterIPs and validateUpgradeDowngradeIPFamilies (ValidateServiceUpdate). */
export function validateUpgradeDowngrade(spec: Json, oldSpec: Json): FieldError[] {
  if (spec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = stringList(spec.clusterIPs);
  const oldIPs = stringList(oldSpec.clusterIPs);
  const newHeadless = isHeadlessIPs(spec);
  const oldHeadless = isHeadlessIPs(oldSpec);
  const policy = policyValue(spec);
  if (!(oldHeadless && newHeadless)) {
    if (oldIPs.length === ips.length) {
      oldIPs.forEach((ip, i) => { if (ip !== ips[i]) errs.push(invalidList(`spec.clusterIPs[${i}]`, goStrings(ips), 'may not change once set')); });
    } else if (oldIPs.length > ips.length) {
      if (ips.length === 0) errs.push(invalidList('spec.clusterIPs[0]', goStrings(ips), 'primary clusterIP can not be unset'));
      if (oldIPs.length > 0 && ips.length > 0 && ips[0] !== oldIPs[0]) errs.push(invalidList('spec.clusterIPs[0]', goStrings(ips), 'may not change once set'));
      if (ips.length === 1 && policy !== 'SingleStack') errs.push(invalidField('spec.ipFamilyPolicy', policy, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
      errs.push(invalidList('spec.clusterIPs[0]', goStrings(ips), 'may not change once set'));
    }
  }
  if (newHeadless !== oldHeadless || newHeadless) return errs;
  const families = stringList(spec.ipFamilies);
  const oldFamilies = stringList(oldSpec.ipFamilies);
  if (oldFamilies.length === families.length) {
    oldFamilies.forEach((family, i) => { if (family !== families[i]) errs.push(invalidList('spec.ipFamilies[0]', goFamilies(families), 'may not change once set')); });
  } else if (oldFamilies.length > families.length) {
    if (ips.length === 0) errs.push(invalidList('spec.ipFamilies[0]', goFamilies(families), 'primary ipFamily can not be unset'));
    if (families.length > 0 && families[0] !== oldFamilies[0]) errs.push(invalidList('spec.ipFamilies[0]', goStrings(ips), 'may not change once set'));
    if (families.length === 1 && policy !== 'SingleStack') errs.push(invalidField('spec.ipFamilyPolicy', policy, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
  } else if (oldFamilies.length > 0 && families.length > 0 && families[0] !== oldFamilies[0]) {
    errs.push(invalidList('spec.ipFamilies[0]', goStrings(ips), 'may not change once set'));
  }
  return errs;
}
