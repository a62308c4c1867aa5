// IP and port rules shared by Services, Endpoints and EndpointSlices (apimachinery's IsValidIP and
// friends, pkg/apis/core/validation's validateNonSpecialIP), worded as upstream.

import { isIP } from 'node:net';
import { invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isDNS1123Label, isValidPortNum } from '../validation/names.ts';

export const SUPPORTED_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const VALID_IP_MESSAGE = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/** The problems of an IP string (IsValidIP); empty when valid. */
export function ipErrors(value: string): string[] {
  return isIP(value) === 0 ? [VALID_IP_MESSAGE] : [];
}

export function ipFamily(value: string): 'IPv4' | 'IPv6' | undefined {
  const family = isIP(value);
  return family === 4 ? 'IPv4' : family === 6 ? 'IPv6' : undefined;
}

/** validateNonSpecialIP: endpoints may not point at unspecified, loopback, link-local or multicast addresses. */
export function nonSpecialIPErrors(path: string, ip: string): FieldError[] {
  const family = ipFamily(ip);
  if (!family) return [invalidField(path, ip, VALID_IP_MESSAGE)];
  const normalised = ip.toLowerCase();
  if (normalised === '0.0.0.0' || normalised === '::') return [invalidField(path, ip, 'may not be unspecified (0.0.0.0)')];
  if (normalised.startsWith('127.') || normalised === '::1') return [invalidField(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')];
  if (normalised.startsWith('169.254.') || normalised.startsWith('fe80:')) return [invalidField(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')];
  if (normalised.startsWith('224.') || normalised.startsWith('ff02:')) return [invalidField(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')];
  return [];
}

export function validatePortNumber(path: string, port: unknown): FieldError[] {
  if (typeof port !== 'number') return [requiredField(path)];
  return isValidPortNum(port).map((msg) => invalidField(path, port, msg));
}

export function validateProtocol(path: string, protocol: unknown): FieldError[] {
  if (protocol === undefined || protocol === '') return [requiredField(path)];
  return SUPPORTED_PROTOCOLS.includes(String(protocol)) ? [] : [notSupportedField(path, protocol, SUPPORTED_PROTOCOLS)];
}

/** A port's `name` (ValidateDNS1123Label). */
export function validatePortName(path: string, name: string): FieldError[] {
  return isDNS1123Label(name).map((msg) => invalidField(path, name, msg));
}
