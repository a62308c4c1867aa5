// pkg/apis/flowcontrol/validation for the v1 kinds: FlowSchema specs (precedence, distinguisher,
// priority level reference, rules with subjects, resource and non-resource rules) and
// PriorityLevelConfiguration specs (Exempt or Limited, limit responses, queuing and
// shuffle-sharding bounds), worded as upstream.

import { forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject } from '../object.ts';
import { isDNS1123Subdomain } from '../validation/names.ts';
import { validateNamespaceName } from '../validation/object-meta.ts';

type Json = Record<string, unknown>;
const SUPPORTED_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const DISTINGUISHERS = ['ByNamespace', 'ByUser'];
const SUBJECT_KINDS = ['Group', 'ServiceAccount', 'User'];
const ENABLEMENTS = ['Exempt', 'Limited'];
const LIMIT_RESPONSES = ['Queue', 'Reject'];
export const MAX_MATCHING_PRECEDENCE = 10000;
const MAX_QUEUES = 10 * 1000 * 1000;
const MAX_HASH_BITS = 60;
const NS_ERR_INTRO = "each member of this list must be '*' or a DNS-1123 label; ";

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
const objects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isPlainObject) : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const num = (value: unknown): number => (typeof value === 'number' ? value : 0);

function validateVerbs(verbs: string[], path: string): FieldError[] {
  if (verbs.length === 0) return [requiredField(path, 'verbs must contain at least one value')];
  if (verbs.includes('*')) return verbs.length > 1 ? [invalidField(path, verbs, "if '*' is present, must not specify other verbs")] : [];
  return verbs.every((verb) => SUPPORTED_VERBS.includes(verb)) ? [] : [notSupportedField(path, verbs, SUPPORTED_VERBS)];
}

function wildcardAlone(values: string[], path: string, what: string): FieldError[] {
  return values.length > 1 && values.includes('*') ? [invalidField(path, values, `if '*' is present, must not specify other ${what}`)] : [];
}

function validateSubject(subject: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const kinds: Record<string, [string, string]> = { ServiceAccount: ['serviceAccount', 'ServiceAccount'], User: ['user', 'User'], Group: ['group', 'Group'] };
  const kind = str(subject.kind);
  const own = kinds[kind];
  if (!own) return [notSupportedField(`${path}.kind`, subject.kind ?? '', SUBJECT_KINDS)];
  const [field] = own;
  const value = subject[field];
  if (!isPlainObject(value)) {
    errs.push(requiredField(`${path}.${field}`, `${field} is required when subject kind is '${kind}'`));
  } else {
    const name = str(value.name);
    if (name === '') errs.push(requiredField(`${path}.${field}.name`));
    if (kind === 'ServiceAccount') {
      if (name !== '' && name !== '*') errs.push(...isDNS1123Subdomain(name).map((msg) => invalidField(`${path}.${field}.name`, name, msg)));
      const namespace = str(value.namespace);
      if (namespace === '') errs.push(requiredField(`${path}.${field}.namespace`));
      else errs.push(...validateNamespaceName(namespace).map((msg) => invalidField(`${path}.${field}.namespace`, namespace, msg)));
    }
  }
  for (const [otherKind, [otherField, otherName]] of Object.entries(kinds)) {
    if (otherKind !== kind && subject[otherField] !== undefined && subject[otherField] !== null) {
      errs.push(forbiddenField(`${path}.${otherField}`, `${otherField} is forbidden when subject kind is not '${otherName}'`));
    }
  }
  return errs;
}

function validateResourceRule(rule: Json, path: string): FieldError[] {
  const errs = validateVerbs(strings(rule.verbs), `${path}.verbs`);
  const groups = strings(rule.apiGroups);
  if (groups.length === 0) errs.push(requiredField(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  else errs.push(...wildcardAlone(groups, `${path}.apiGroups`, 'api groups'));
  const resources = strings(rule.resources);
  if (resources.length === 0) errs.push(requiredField(`${path}.resources`, 'resource rules must supply at least one resource'));
  else errs.push(...wildcardAlone(resources, `${path}.resources`, 'resources'));
  const namespaces = strings(rule.namespaces);
  if (namespaces.length === 0 && rule.clusterScope !== true) {
    errs.push(requiredField(`${path}.namespaces`, 'resource rules that are not cluster scoped must supply at least one namespace'));
  } else if (namespaces.includes('*')) {
    errs.push(...wildcardAlone(namespaces, `${path}.namespaces`, 'namespaces'));
  } else {
    namespaces.forEach((ns, i) => errs.push(...validateNamespaceName(ns).map((msg) => invalidField(`${path}.namespaces[${i}]`, ns, NS_ERR_INTRO + msg))));
  }
  return errs;
}

function validateNonResourceURL(url: string, path: string): FieldError[] {
  if (url === '') return [invalidField(path, url, 'must not be empty')];
  if (url === '/') return [];
  if (!url.startsWith('/')) return [invalidField(path, url, 'must start with slash')];
  if (url.includes('//')) return [invalidField(path, url, 'must not contain double slash')];
  const wildcard = url.indexOf('*');
  if (wildcard >= 0 && (wildcard !== url.length - 1 || !url.endsWith('/*'))) return [invalidField(path, url, 'wildcard can only do suffix glob matching')];
  return [];
}

function validateNonResourceRule(rule: Json, path: string): FieldError[] {
  const errs = validateVerbs(strings(rule.verbs), `${path}.verbs`);
  const urls = strings(rule.nonResourceURLs);
  if (urls.length === 0) errs.push(requiredField(`${path}.nonResourceURLs`, 'nonResourceURLs must contain at least one value'));
  else if (urls.includes('*')) errs.push(...wildcardAlone(urls, `${path}.nonResourceURLs`, 'non-resource URLs'));
  else urls.forEach((url, i) => errs.push(...validateNonResourceURL(url, `${path}.nonResourceURLs[${i}]`)));
  return errs;
}

export function validateFlowSchemaSpec(name: string, spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const precedence = num(spec.matchingPrecedence);
  if (precedence <= 0) errs.push(invalidField('spec.matchingPrecedence', precedence, 'must be a positive value'));
  if (precedence > MAX_MATCHING_PRECEDENCE) errs.push(invalidField('spec.matchingPrecedence', precedence, `must not be greater than ${MAX_MATCHING_PRECEDENCE}`));
  if (precedence === 1 && name !== 'exempt') errs.push(invalidField('spec.matchingPrecedence', precedence, "only the schema named 'exempt' may have matchingPrecedence 1"));
  if (isPlainObject(spec.distinguisherMethod) && !DISTINGUISHERS.includes(str(spec.distinguisherMethod.type))) {
    errs.push(notSupportedField('spec.distinguisherMethod.type', spec.distinguisherMethod, DISTINGUISHERS));
  }
  const level = isPlainObject(spec.priorityLevelConfiguration) ? str(spec.priorityLevelConfiguration.name) : '';
  if (level === '') errs.push(requiredField('spec.priorityLevelConfiguration.name', 'must reference a priority level'));
  else errs.push(...isDNS1123Subdomain(level).map((msg) => invalidField('spec.priorityLevelConfiguration.name', level, msg)));
  objects(spec.rules).forEach((rule, i) => {
    const path = `spec.rules[${i}]`;
    const subjects = objects(rule.subjects);
    if (subjects.length === 0) errs.push(requiredField(`${path}.subjects`, 'subjects must contain at least one value'));
    subjects.forEach((subject, j) => errs.push(...validateSubject(subject, `${path}.subjects[${j}]`)));
    const resourceRules = objects(rule.resourceRules);
    const nonResourceRules = objects(rule.nonResourceRules);
    if (resourceRules.length === 0 && nonResourceRules.length === 0) errs.push(requiredField(path, 'at least one of resourceRules and nonResourceRules has to be non-empty'));
    resourceRules.forEach((r, j) => errs.push(...validateResourceRule(r, `${path}.resourceRules[${j}]`)));
    nonResourceRules.forEach((r, j) => errs.push(...validateNonResourceRule(r, `${path}.nonResourceRules[${j}]`)));
  });
  return errs;
}

/** shufflesharding.RequiredEntropyBits: ceil(log2(deckSize) * handSize). */
function requiredEntropyBits(deckSize: number, handSize: number): number {
  return Math.ceil(Math.log2(deckSize) * handSize);
}

function validateQueuing(queuing: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const limit = num(queuing.queueLengthLimit);
  if (limit <= 0) errs.push(invalidField(`${path}.queueLengthLimit`, limit, 'must be positive'));
  const queues = num(queuing.queues);
  if (queues <= 0) errs.push(invalidField(`${path}.queues`, queues, 'must be positive'));
  else if (queues > MAX_QUEUES) errs.push(invalidField(`${path}.queues`, queues, `must not be greater than ${MAX_QUEUES}`));
  const handSize = num(queuing.handSize);
  if (handSize <= 0) errs.push(invalidField(`${path}.handSize`, handSize, 'must be positive'));
  else if (handSize > queues) errs.push(invalidField(`${path}.handSize`, handSize, `should not be greater than queues (${queues})`));
  else if (requiredEntropyBits(queues, handSize) > MAX_HASH_BITS) {
    errs.push(invalidField(`${path}.handSize`, handSize, `required entropy bits of deckSize ${queues} and handSize ${handSize} should not be greater than ${MAX_HASH_BITS}`));
  }
  return errs;
}

function validatePercent(value: unknown, path: string): FieldError[] {
  return typeof value === 'number' && (value < 0 || value > 100) ? [invalidField(path, value, 'must be between 0 and 100, inclusive')] : [];
}

export function validatePriorityLevelSpec(name: string, spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const type = str(spec.type);
  if ((name === 'exempt') !== (type === 'Exempt')) errs.push(invalidField('spec.type', type, "type must be 'Exempt' if and only if name is 'exempt'"));
  if (type === 'Exempt') {
    if (spec.limited !== undefined && spec.limited !== null) errs.push(forbiddenField('spec.limited', 'must be nil if the type is not Limited'));
    if (isPlainObject(spec.exempt)) {
      const shares = spec.exempt.nominalConcurrencyShares;
      if (typeof shares === 'number' && shares < 0) errs.push(invalidField('spec.exempt.nominalConcurrencyShares', shares, 'must be a non-negative integer'));
      errs.push(...validatePercent(spec.exempt.lendablePercent, 'spec.exempt.lendablePercent'));
    }
  } else if (type === 'Limited') {
    if (spec.exempt !== undefined && spec.exempt !== null) errs.push(forbiddenField('spec.exempt', 'must be nil if the type is Limited'));
    if (!isPlainObject(spec.limited)) {
      errs.push(requiredField('spec.limited', 'must not be empty when type is Limited'));
    } else {
      const limited = spec.limited;
      const shares = num(limited.nominalConcurrencyShares);
      if (shares < 0) errs.push(invalidField('spec.limited.nominalConcurrencyShares', shares, 'must be a non-negative integer'));
      const response = isPlainObject(limited.limitResponse) ? limited.limitResponse : {};
      const responseType = str(response.type);
      if (responseType === 'Reject') {
        if (response.queuing !== undefined && response.queuing !== null) errs.push(forbiddenField('spec.limited.limitResponse.queuing', 'must be nil if limited.limitResponse.type is not Limited'));
      } else if (responseType === 'Queue') {
        if (!isPlainObject(response.queuing)) errs.push(requiredField('spec.limited.limitResponse.queuing', 'must not be empty if limited.limitResponse.type is Limited'));
        else errs.push(...validateQueuing(response.queuing, 'spec.limited.limitResponse.queuing'));
      } else {
        errs.push(notSupportedField('spec.limited.limitResponse.type', responseType, LIMIT_RESPONSES));
      }
      errs.push(...validatePercent(limited.lendablePercent, 'spec.limited.lendablePercent'));
      if (typeof limited.borrowingLimitPercent === 'number' && limited.borrowingLimitPercent < 0) {
        errs.push(invalidField('spec.limited.borrowingLimitPercent', limited.borrowingLimitPercent, 'if specified, must be a non-negative integer'));
      }
    }
  } else {
    errs.push(notSupportedField('spec.type', type, ENABLEMENTS));
  }
  return errs;
}

/** ValidateFlowSchemaStatus / ValidatePriorityLevelConfigurationStatus: condition types are required and unique. */
export function validateConditions(status: unknown): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objects(isPlainObject(status) ? status.conditions : undefined).forEach((condition, i) => {
    const type = str(condition.type);
    if (type === '') errs.push(requiredField(`status.conditions[${i}].type`, 'must not be empty'));
    else if (seen.has(type)) errs.push({ type: 'FieldValueDuplicate', field: `status.conditions[${i}].type`, message: `Duplicate value: "${type}"` });
    seen.add(type);
  });
  return errs;
}
