// --encryption-provider-config: the apiserver.config.k8s.io/v1 EncryptionConfiguration file (YAML or
// JSON), parsed and validated as kube-apiserver's encryptionconfig package and
// apis/apiserver/validation/validation_encryption.go do (same field paths and wording), and turned
// into one ordered transformer list per configured resource. kms providers need an external KMS
// plugin over gRPC, which kubefacade does not speak: a config naming one is refused.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { PrefixKeyTransformers, PrefixTransformers, type EncryptingProvider, type TransformerEntry, type ValueTransformer } from './value-transformer.ts';

/** A resource kubefacade stores: its group ('' for core), plural, and storage-key prefix (`/registry/secrets/`). */
export interface StoredResource {
  group: string;
  resource: string;
  keyPrefix: string;
}

interface KeyConfig { name?: unknown; secret?: unknown }

const KEY_SIZES: Record<EncryptingProvider, number[]> = { aescbc: [16, 24, 32], aesgcm: [16, 24, 32], secretbox: [32] };
const PROVIDER_NAMES = ['kms', 'aesgcm', 'aescbc', 'secretbox', 'identity'] as const;

export class EncryptionConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionConfigError';
  }
}

interface ResourceRule {
  resources: string[];
  entries: TransformerEntry[];
}

/** Reads, validates and compiles the file; throws EncryptionConfigError with every problem found. */
export function loadEncryptionConfig(file: string, stored: readonly StoredResource[]): PrefixKeyTransformers {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EncryptionConfigError(`error opening encryption provider configuration file ${JSON.stringify(file)}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    document = parseYaml(text);
  } catch (error) {
    throw new EncryptionConfigError(`error decoding encryption provider configuration file ${JSON.stringify(file)}: ${(error as Error).message.split('\n')[0]}`);
  }
  const rules = compile(document, file);
  return bindResources(rules, stored);
}

function compile(document: unknown, file: string): ResourceRule[] {
  const fail = (message: string): never => { throw new EncryptionConfigError(`error decoding encryption provider configuration file ${JSON.stringify(file)}: ${message}`); };
  if (!isRecord(document)) return fail('expected an EncryptionConfiguration object');
  if (document.kind !== 'EncryptionConfiguration' || document.apiVersion !== 'apiserver.config.k8s.io/v1') {
    fail(`no kind "${String(document.kind ?? '')}" is registered for version "${String(document.apiVersion ?? '')}": expected kind EncryptionConfiguration, apiVersion apiserver.config.k8s.io/v1`);
  }
  const errors: string[] = [];
  const resources = document.resources;
  if (!Array.isArray(resources) || resources.length === 0) {
    throw new EncryptionConfigError(`error while parsing file: resources: Required value: at least one resources is required`);
  }
  const rules: ResourceRule[] = [];
  resources.forEach((conf: unknown, i) => {
    const r = `resources[${i}].resources`;
    const p = `resources[${i}].providers`;
    const rule: ResourceRule = { resources: [], entries: [] };
    const names = isRecord(conf) && Array.isArray(conf.resources) ? conf.resources.map(String) : [];
    if (names.length === 0) errors.push(`${r}: Required value: at least one ${r} is required`);
    errors.push(...validateResourceOverlap(names, r), ...validateResourceNames(names, r));
    rule.resources = names;
    const providers = isRecord(conf) && Array.isArray(conf.providers) ? conf.providers : [];
    if (providers.length === 0) errors.push(`${p}: Required value: at least one ${p} is required`);
    providers.forEach((provider: unknown, j) => {
      const path = `${p}[${j}]`;
      const present = isRecord(provider) ? PROVIDER_NAMES.filter((name) => provider[name] !== undefined && provider[name] !== null) : [];
      const unknown = isRecord(provider) ? Object.keys(provider).filter((name) => !(PROVIDER_NAMES as readonly string[]).includes(name)) : [];
      if (present.length === 0) {
        // Upstream's decoder drops unknown fields, so `rot13: {...}` is an empty element; the unknown name is added here.
        const named = unknown.length > 0 ? ` (unknown field ${unknown.map((name) => JSON.stringify(name)).join(', ')})` : '';
        errors.push(`${path}: Invalid value: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity${named}`);
        return;
      }
      if (present.length > 1) {
        errors.push(`${path}: Invalid value: more than one provider specified in a single element, should split into different list elements`);
        return;
      }
      const name = present[0];
      const body = (provider as Record<string, unknown>)[name];
      if (name === 'kms') {
        errors.push(`${path}.kms: Unsupported value: kms providers need an external KMS plugin, which kubefacade does not support: use aescbc, aesgcm or secretbox`);
        return;
      }
      if (name === 'identity') {
        rule.entries.push({ provider: 'identity' });
        return;
      }
      const keysPath = `${path}.${name}.keys`;
      const keys = isRecord(body) && Array.isArray(body.keys) ? (body.keys as KeyConfig[]) : [];
      if (keys.length === 0) {
        errors.push(`${keysPath}: Required value: at least one keys is required`);
        return;
      }
      keys.forEach((key, k) => {
        const entry = validateKey(isRecord(key) ? key : {}, `${keysPath}[${k}]`, KEY_SIZES[name], errors);
        if (entry) rule.entries.push({ provider: name, keyName: entry.name, secret: entry.secret });
      });
    });
    rules.push(rule);
  });
  if (errors.length > 0) throw new EncryptionConfigError(`error while parsing file: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`);
  return rules;
}

function validateKey(key: KeyConfig, path: string, sizes: number[], errors: string[]): { name: string; secret: Buffer } | undefined {
  const name = typeof key.name === 'string' ? key.name : '';
  const secretText = typeof key.secret === 'string' ? key.secret : '';
  let ok = true;
  if (name === '') {
    errors.push(`${path}.name: Required value: name is a mandatory field for a key`);
    ok = false;
  }
  if (secretText === '') {
    errors.push(`${path}.secret: Required value: secret is a mandatory field for a key`);
    return undefined;
  }
  // Go's base64.StdEncoding: padded standard alphabet, nothing else.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(secretText) || secretText.length % 4 !== 0) {
    errors.push(`${path}.secret: Invalid value: "REDACTED": secrets must be base64 encoded`);
    return undefined;
  }
  const secret = Buffer.from(secretText, 'base64');
  if (!sizes.includes(secret.length)) {
    errors.push(`${path}.secret: Invalid value: "REDACTED": secret is not of the expected length, got ${secret.length}, expected one of [${sizes.join(' ')}]`);
    ok = false;
  }
  return ok ? { name, secret } : undefined;
}

interface GroupResource { group: string; resource: string }

/** schema.ParseGroupResource: `secrets` → core, `deployments.apps` → apps, `*.` → every core resource. */
function parseGroupResource(text: string): GroupResource {
  const dot = text.indexOf('.');
  return dot === -1 ? { group: '', resource: text } : { group: text.slice(dot + 1), resource: text.slice(0, dot) };
}

function validateResourceOverlap(resources: string[], path: string): string[] {
  if (resources.length < 2) return [];
  const parsed = resources.map(parseGroupResource);
  let hasOverlap = false;
  let hasDuplicate = false;
  parsed.forEach((r1, i) => parsed.forEach((r2, j) => {
    if (i === j) return;
    if (r1.group === r2.group && r1.resource === r2.resource) { hasDuplicate = true; return; }
    if (hasOverlap) return;
    if (r1.group === '*' && r1.resource === '*') { hasOverlap = true; return; }
    if (r1.group !== r2.group) return;
    if (r1.resource === '*' || r2.resource === '*') hasOverlap = true;
  }));
  const value = `[]string{${resources.map((name) => JSON.stringify(name)).join(', ')}}`;
  const errors: string[] = [];
  if (hasDuplicate) errors.push(`${path}: Invalid value: ${value}: the same resource cannot be specified multiple times`);
  if (hasOverlap) errors.push(`${path}: Invalid value: ${value}: using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked`);
  return errors;
}

function validateResourceNames(resources: string[], path: string): string[] {
  const errors: string[] = [];
  resources.forEach((name, j) => {
    const at = `${path}[${j}]: Invalid value: ${JSON.stringify(name)}: `;
    const gr = parseGroupResource(name);
    if (name.toLowerCase() !== name) errors.push(`${at}resource name should not contain capital letters`);
    else if (name === '*') errors.push(`${at}use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources`);
    else if (['apiserveripinfo', 'serviceipallocations', 'servicenodeportallocations'].includes(name)) errors.push(`${at}resources which do not have REST API/s cannot be encrypted`);
    else if (gr.group === 'events.k8s.io') errors.push(`${at}'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file`);
    else if (gr.group === 'extensions') errors.push(`${at}'extensions' group has been removed and cannot be used for encryption`);
    else if (gr.group === '*' && gr.resource !== '*') errors.push(`${at}encrypting the same resource across groups is not supported`);
  });
  return errors;
}

function matches(pattern: GroupResource, resource: StoredResource): boolean {
  const groupMatches = pattern.group === '*' || pattern.group === resource.group;
  return groupMatches && (pattern.resource === '*' || pattern.resource === resource.resource);
}

/**
 * The transformer of each stored resource: the first rule (in file order) naming it, exactly or by
 * wildcard, as upstream's resource-to-transformer lookup. Resources no rule names are stored as is.
 */
function bindResources(rules: ResourceRule[], stored: readonly StoredResource[]): PrefixKeyTransformers {
  const compiled = rules.map((rule) => ({ patterns: rule.resources.map(parseGroupResource), transformer: new PrefixTransformers(rule.entries) }));
  const byPrefix: [string, ValueTransformer][] = [];
  for (const resource of stored) {
    const rule = compiled.find((candidate) => candidate.patterns.some((pattern) => matches(pattern, resource)));
    if (rule) byPrefix.push([resource.keyPrefix, rule.transformer]);
  }
  // Longer prefixes first, so `/registry/services/endpoints/` is never taken for `/registry/services/`.
  byPrefix.sort((a, b) => b[0].length - a[0].length);
  return new PrefixKeyTransformers(byPrefix);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
