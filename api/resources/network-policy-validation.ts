// ValidateNetworkPolicySpec and its parts as kube-apiserver 1.32 has them (pkg/apis/networking/validation):
// label selectors of the policy and its peers, ports (numbers, names, endPort ranges, protocols), peers
// (one of podSelector/namespaceSelector/ipBlock, ipBlock alone), ipBlock CIDRs with `except` strictly
// inside `cidr`, and policyTypes. Messages are upstream's, word for word.

import { forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject } from '../object.ts';
import { isValidPortNum } from '../validation/names.ts';
import { isValidPortName } from './ingress-validation.ts';
import { invalidGoValue, validateLabelSelector, type LabelSelectorValidationOptions } from './workload-validation.ts';

type Json = Record<string, unknown>;

const PORT_PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const POLICY_TYPES = ['Ingress', 'Egress'];

/** An IP network as Go's net.IPNet holds it: the masked address bytes (4 or 16) and the prefix length. */
interface IPNet {
  bytes: number[];
  prefix: number;
}

/** A dotted IPv4 address as k8s.io/utils/net's sloppy parser reads it (leading zeros allowed, read as decimal). */
function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes.push(value);
  }
  return bytes;
}

/** An IPv6 address (with `::` and an optional trailing dotted IPv4) as 16 bytes. */
function parseIPv6(text: string): number[] | undefined {
  let address = text;
  const lastColon = address.lastIndexOf(':');
  if (address.slice(lastColon + 1).includes('.')) {
    // A trailing dotted IPv4 stands for the last two groups.
    const v4 = parseIPv4(address.slice(lastColon + 1));
    if (!v4) return undefined;
    address = `${address.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    for (const group of half.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      const value = parseInt(group, 16);
      out.push(value >> 8, value & 0xff);
    }
    return out;
  };
  const before = groups(halves[0]);
  const after = halves.length === 2 ? groups(halves[1]) : [];
  if (!before || !after) return undefined;
  const missing = 16 - before.length - after.length;
  if (halves.length === 1 ? missing !== 0 : missing < 2) return undefined;
  return [...before, ...new Array<number>(missing).fill(0), ...after];
}

/** net.ParseCIDR (ParseCIDRSloppy): the network, or undefined when the text is not a CIDR. */
export function parseCIDR(text: string): IPNet | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = text.slice(0, slash);
  const mask = text.slice(slash + 1);
  const bytes = address.includes(':') ? parseIPv6(address) : parseIPv4(address);
  if (!bytes || !/^[0-9]+$/.test(mask) || mask.length > 6) return undefined;
  const prefix = Number(mask);
  if (prefix > bytes.length * 8) return undefined;
  const masked = bytes.map((byte, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - bits)) & 0xff);
  });
  return { bytes: masked, prefix };
}

/** IPNet.Contains for another network's address: same family and equal under the outer mask. */
function contains(outer: IPNet, address: number[]): boolean {
  if (outer.bytes.length !== address.length) return false;
  return outer.bytes.every((byte, i) => {
    const bits = Math.max(0, Math.min(8, outer.prefix - i * 8));
    return (address[i] & ((0xff << (8 - bits)) & 0xff)) === byte;
  });
}

/** ValidateNetworkPolicyPort. */
export function validateNetworkPolicyPort(port: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined && port.protocol !== null && !PORT_PROTOCOLS.includes(String(port.protocol))) {
    errs.push(notSupportedField(`${path}.protocol`, port.protocol, PORT_PROTOCOLS));
  }
  const endPort = port.endPort;
  const hasEndPort = endPort !== undefined && endPort !== null;
  if (port.port !== undefined && port.port !== null) {
    if (typeof port.port === 'number') {
      for (const msg of isValidPortNum(port.port)) errs.push(invalidField(`${path}.port`, port.port, msg));
      if (hasEndPort) {
        if (typeof endPort === 'number' && endPort < port.port) {
          errs.push(invalidField(`${path}.endPort`, endPort, 'must be greater than or equal to `port`'));
        }
        for (const msg of isValidPortNum(Number(endPort))) errs.push(invalidField(`${path}.endPort`, endPort, msg));
      }
    } else {
      if (hasEndPort) errs.push(invalidField(`${path}.endPort`, endPort, 'may not be specified when `port` is non-numeric'));
      const name = String(port.port);
      for (const msg of isValidPortName(name)) errs.push(invalidField(`${path}.port`, name, msg));
    }
  } else if (hasEndPort) {
    errs.push(invalidField(`${path}.endPort`, endPort, 'may not be specified when `port` is not specified'));
  }
  return errs;
}

/** ValidateIPBlock (1.32: `not a valid CIDR`; an invalid `except` entry ends the check of the block). */
export function validateIPBlock(block: Json, path: string): FieldError[] {
  const cidrText = typeof block.cidr === 'string' ? block.cidr : '';
  if (cidrText === '') return [requiredField(`${path}.cidr`)];
  const cidr = parseCIDR(cidrText);
  if (!cidr) return [invalidField(`${path}.cidr`, cidrText, 'not a valid CIDR')];
  const errs: FieldError[] = [];
  const excepts = Array.isArray(block.except) ? block.except : [];
  for (let i = 0; i < excepts.length; i++) {
    const exceptText = String(excepts[i]);
    const except = parseCIDR(exceptText);
    if (!except) {
      errs.push(invalidField(`${path}.except[${i}]`, exceptText, 'not a valid CIDR'));
      return errs;
    }
    if (!contains(cidr, except.bytes) || cidr.prefix >= except.prefix) {
      errs.push(invalidField(`${path}.except[${i}]`, exceptText, 'must be a strict subset of `cidr`'));
    }
  }
  return errs;
}

/** ValidateNetworkPolicyPeer. */
export function validateNetworkPolicyPeer(peer: Json, path: string, options: LabelSelectorValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  let peers = 0;
  const present = (value: unknown): boolean => value !== undefined && value !== null;
  if (present(peer.podSelector)) {
    peers++;
    errs.push(...validateLabelSelector(peer.podSelector, `${path}.podSelector`, options));
  }
  if (present(peer.namespaceSelector)) {
    peers++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`, options));
  }
  if (present(peer.ipBlock)) {
    peers++;
    errs.push(...validateIPBlock(isPlainObject(peer.ipBlock) ? peer.ipBlock : {}, `${path}.ipBlock`));
  }
  if (peers === 0) errs.push(requiredField(path, 'must specify a peer'));
  else if (peers > 1 && present(peer.ipBlock)) errs.push(forbiddenField(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

const objects = (value: unknown): Json[] => (Array.isArray(value) ? value.map((v) => (isPlainObject(v) ? v : {})) : []);

/** Go's %#v of the internal []networking.PolicyType, as field.Invalid prints `&spec.PolicyTypes`. */
function goPolicyTypes(types: unknown[]): string {
  return `[]networking.PolicyType{${types.map((t) => JSON.stringify(String(t))).join(', ')}}`;
}

/** ValidateNetworkPolicySpec. */
export function validateNetworkPolicySpec(spec: Json, options: LabelSelectorValidationOptions): FieldError[] {
  const errs = validateLabelSelector(spec.podSelector, 'spec.podSelector', options);
  objects(spec.ingress).forEach((rule, i) => {
    objects(rule.ports).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, `spec.ingress[${i}].ports[${j}]`)));
    objects(rule.from).forEach((peer, j) => errs.push(...validateNetworkPolicyPeer(peer, `spec.ingress[${i}].from[${j}]`, options)));
  });
  objects(spec.egress).forEach((rule, i) => {
    objects(rule.ports).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, `spec.egress[${i}].ports[${j}]`)));
    objects(rule.to).forEach((peer, j) => errs.push(...validateNetworkPolicyPeer(peer, `spec.egress[${i}].to[${j}]`, options)));
  });
  const policyTypes = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
  if (policyTypes.length > POLICY_TYPES.length) {
    errs.push(invalidGoValue('spec.policyTypes', goPolicyTypes(policyTypes), 'may not specify more than two policyTypes'));
    return errs;
  }
  policyTypes.forEach((type: unknown, i: number) => {
    if (!POLICY_TYPES.includes(String(type))) errs.push(notSupportedField(`spec.policyTypes[${i}]`, type, POLICY_TYPES));
  });
  return errs;
}
