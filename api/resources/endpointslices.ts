// discovery.k8s.io/v1 EndpointSlice: ports defaulted (name "", protocol TCP), ValidateEndpointSlice's
// rules (address type, addresses per type, at most 1000 endpoints and 100 addresses each, unique port
// names), addressType immutable, printEndpointSlice's table. The EndpointSlice controller writes them.

import { invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isIP } from 'node:net';
import type { KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { isDNS1123Label, isDNS1123Subdomain, nameIsDNSSubdomain } from '../validation/names.ts';
import { nonSpecialIPErrors, SUPPORTED_PROTOCOLS, validatePortName } from './network-validation.ts';
import { age, ageColumn, column, list, nameColumn, num, str } from './printing.ts';

export const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;

function tooMany(field: string, actual: number, max: number): FieldError {
  return { type: 'FieldValueTooMany', field, message: `Too many: ${actual}: must have at most ${max} items` };
}

function validateAddress(path: string, address: string, addressType: string): FieldError[] {
  switch (addressType) {
    case 'IPv4':
      return isIP(address) === 4 ? nonSpecialIPErrors(path, address) : [invalidField(path, address, 'must be a valid IPv4 address')];
    case 'IPv6':
      return isIP(address) === 6 ? nonSpecialIPErrors(path, address) : [invalidField(path, address, 'must be a valid IPv6 address')];
    case 'FQDN':
      return isDNS1123Subdomain(address).map((msg) => invalidField(path, address, msg));
    default:
      return [];
  }
}

export function validateEndpointSlice(slice: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const addressType = str(slice, 'addressType');
  if (!addressType) errs.push(requiredField('addressType'));
  else if (!ADDRESS_TYPES.includes(addressType)) errs.push(notSupportedField('addressType', addressType, ADDRESS_TYPES));
  const endpoints = list(slice, 'endpoints');
  if (endpoints.length > MAX_ENDPOINTS) errs.push(tooMany('endpoints', endpoints.length, MAX_ENDPOINTS));
  endpoints.forEach((endpoint, i) => {
    const addressPath = `endpoints[${i}].addresses`;
    const addresses = Array.isArray(endpoint.addresses) ? endpoint.addresses.filter((a): a is string => typeof a === 'string') : [];
    if (addresses.length === 0) errs.push(requiredField(addressPath, 'must contain at least 1 address'));
    else if (addresses.length > MAX_ADDRESSES) errs.push(tooMany(addressPath, addresses.length, MAX_ADDRESSES));
    addresses.forEach((address, j) => errs.push(...validateAddress(`${addressPath}[${j}]`, address, addressType)));
    const nodeName = str(endpoint, 'nodeName');
    if (nodeName) for (const msg of nameIsDNSSubdomain(nodeName, false)) errs.push(invalidField(`endpoints[${i}].nodeName`, nodeName, msg));
    const hostname = str(endpoint, 'hostname');
    if (hostname) for (const msg of isDNS1123Label(hostname)) errs.push(invalidField(`endpoints[${i}].hostname`, hostname, msg));
  });
  const ports = list(slice, 'ports');
  if (ports.length > MAX_PORTS) errs.push(tooMany('ports', ports.length, MAX_PORTS));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const name = str(port, 'name');
    if (name) errs.push(...validatePortName(`ports[${i}].name`, name));
    if (names.has(name)) errs.push({ type: 'FieldValueDuplicate', field: `ports[${i}].name`, message: `Duplicate value: ${JSON.stringify(name)}` });
    names.add(name);
    const protocol = port.protocol;
    if (protocol === undefined || protocol === null) errs.push(requiredField(`ports[${i}].protocol`));
    else if (!SUPPORTED_PROTOCOLS.includes(String(protocol))) errs.push(notSupportedField(`ports[${i}].protocol`, protocol, SUPPORTED_PROTOCOLS));
    const number = num(port, 'port');
    if (number !== undefined && (number < 0 || number > 65535)) errs.push(invalidField(`ports[${i}].port`, number, 'must be between 0 and 65535, inclusive'));
  });
  return errs;
}

/** listWithMoreString: the first three, ` + N more...`, `<unset>` when empty. */
function listWithMore(items: string[], count: number, max = 3): string {
  const shown = items.slice(0, max).join(',');
  if (count > max) return `${shown} + ${count - max} more...`;
  return shown || '<unset>';
}

export function formatSlicePorts(slice: KubeObject): string {
  const ports = list(slice, 'ports').map((port) => {
    const number = num(port, 'port');
    if (number !== undefined) return String(number);
    return str(port, 'name') || '*';
  });
  return listWithMore(ports, ports.length);
}

export function formatSliceEndpoints(slice: KubeObject): string {
  const addresses: string[] = [];
  for (const endpoint of list(slice, 'endpoints')) {
    if (Array.isArray(endpoint.addresses)) for (const a of endpoint.addresses) if (typeof a === 'string') addresses.push(a);
  }
  return listWithMore(addresses, addresses.length);
}

export const endpointSliceStrategy: ResourceStrategy = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  listKind: 'EndpointSliceList',
  resource: 'endpointslices',
  singular: 'endpointslice',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'endpointslices',
  hasStatus: false,
  subresources: [],
  tracksGeneration: true,

  applyDefaults(slice) {
    for (const port of list(slice, 'ports')) {
      port.name ??= '';
      port.protocol ??= 'TCP';
    }
  },
  validateName: nameIsDNSSubdomain,
  validate: (slice) => validateEndpointSlice(slice),
  validateUpdate: (slice, old) => [
    ...(str(slice, 'addressType') !== str(old, 'addressType') ? [invalidField('addressType', str(slice, 'addressType'), FIELD_IMMUTABLE_MESSAGE)] : []),
    ...validateEndpointSlice(slice),
  ],
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('AddressType', 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.'),
      column('Ports', 'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.'),
      column('Endpoints', 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
      ageColumn(),
    ],
    cells: (slice, now) => [slice.metadata.name ?? '', str(slice, 'addressType'), formatSlicePorts(slice), formatSliceEndpoints(slice), age(slice.metadata.creationTimestamp, now)],
  },
};
