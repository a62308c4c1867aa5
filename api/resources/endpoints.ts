// core/v1 Endpoints: ValidateEndpoints (addresses, ports, protocols), ports' protocol defaulted to
// TCP, printEndpoints' table. The endpoints controller (controllers/) keeps them for services.

import { requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy, TableCell } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { nonSpecialIPErrors, validatePortName, validatePortNumber, validateProtocol } from './network-validation.ts';
import { age, ageColumn, column, list, nameColumn, num, str } from './printing.ts';

export function validateEndpoints(endpoints: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  list(endpoints, 'subsets').forEach((subset, i) => {
    const path = `subsets[${i}]`;
    for (const key of ['addresses', 'notReadyAddresses']) {
      list(subset, key).forEach((address, j) => {
        errs.push(...nonSpecialIPErrors(`${path}.${key}[${j}].ip`, str(address, 'ip')));
      });
    }
    const ports = list(subset, 'ports');
    const names = new Set<string>();
    ports.forEach((port, j) => {
      const portPath = `${path}.ports[${j}]`;
      const name = str(port, 'name');
      if (ports.length > 1 && !name) errs.push(requiredField(`${portPath}.name`));
      else if (name) errs.push(...validatePortName(`${portPath}.name`, name));
      if (name && names.has(name)) errs.push({ type: 'FieldValueDuplicate', field: `${portPath}.name`, message: `Duplicate value: ${JSON.stringify(name)}` });
      names.add(name);
      errs.push(...validatePortNumber(`${portPath}.port`, port.port));
      errs.push(...validateProtocol(`${portPath}.protocol`, port.protocol));
    });
  });
  return errs;
}

/** formatEndpoints: up to three `ip:port`, then ` + N more...`; `<none>` when empty. */
export function formatEndpoints(endpoints: KubeObject): string {
  const shown: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const subset of list(endpoints, 'subsets')) {
    const addresses = list(subset, 'addresses');
    const ports = list(subset, 'ports');
    if (ports.length === 0) {
      count += addresses.length;
      for (const address of addresses) {
        if (shown.length === max) { more = true; break; }
        shown.push(str(address, 'ip'));
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const address of addresses) {
        if (shown.length === max) { more = true; break; }
        const ip = str(address, 'ip');
        shown.push(`${ip.includes(':') ? `[${ip}]` : ip}:${num(port, 'port') ?? 0}`);
      }
    }
  }
  const joined = shown.join(',');
  if (more) return `${joined} + ${count - max} more...`;
  return joined || '<none>';
}

export const endpointsStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  listKind: 'EndpointsList',
  resource: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'services/endpoints',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  applyDefaults(endpoints) {
    for (const subset of list(endpoints, 'subsets')) {
      for (const port of list(subset, 'ports')) if (isPlainObject(port) && !port.protocol) port.protocol = 'TCP';
    }
  },
  validateName: nameIsDNSSubdomain,
  validate: (endpoints) => validateEndpoints(endpoints),
  validateUpdate: (endpoints) => validateEndpoints(endpoints),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Endpoints', 'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.'),
      ageColumn(),
    ],
    cells: (endpoints, now): TableCell[] => [endpoints.metadata.name ?? '', formatEndpoints(endpoints), age(endpoints.metadata.creationTimestamp, now)],
  },
};
