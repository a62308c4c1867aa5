// Service defaulting and validation, worded as pkg/apis/core/v1/defaults.go (SetDefaults_Service) and
// pkg/apis/core/validation (ValidateService, ValidateServiceUpdate). Address and port allocation are
// not here: the registry's service allocation (api/registry/service-allocation.ts) does them.

import { duplicateField, forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { isDNS1123Subdomain, isValidLabelValue, isQualifiedName } from '../validation/names.ts';
import { ipErrors, SUPPORTED_PROTOCOLS, validatePortName, validatePortNumber } from './network-validation.ts';
import { list, str } from './printing.ts';

type Json = Record<string, unknown>;
export const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
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
  }
  const clusterIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs.map(String) : [];
  const clusterIP = str(spec, 'clusterIP');
  if (clusterIPs.length > 0 && clusterIP !== clusterIPs[0]) errs.push(invalidField('spec.clusterIPs', clusterIPs, 'first value must match `clusterIP`'));
  clusterIPs.forEach((ip, i) => {
    if (ip === 'None') {
      if (i > 0 || clusterIPs.length > 1) errs.push(invalidField(`spec.clusterIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      return;
    }
    for (const msg of ipErrors(ip)) errs.push(invalidField(`spec.clusterIPs[${i}]`, ip, msg));
  });
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
  const policy = str(spec, 'ipFamilyPolicy');
  if (policy && !IP_FAMILY_POLICIES.includes(policy)) errs.push(notSupportedField('spec.ipFamilyPolicy', policy, IP_FAMILY_POLICIES));
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

/** ValidateServiceUpdate: clusterIP(s) may only change to or from ExternalName. */
export function validateServiceUpdate(service: KubeObject, old: KubeObject): FieldError[] {
  const spec = serviceSpec(service);
  const oldSpec = isPlainObject(old.spec) ? old.spec : {};
  const errs: FieldError[] = [];
  if (spec.type !== 'ExternalName' && oldSpec.type !== 'ExternalName') {
    const now = str(spec, 'clusterIP');
    const before = str(oldSpec, 'clusterIP');
    if (before && now !== before) errs.push(invalidField('spec.clusterIPs[0]', now, 'may not change once set'));
  }
  return [...errs, ...validateService(service)];
}
