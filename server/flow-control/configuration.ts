// The API Priority and Fairness configuration computed from the stored FlowSchemas and
// PriorityLevelConfigurations, as kube-apiserver's config controller digests them
// (k8s.io/apiserver/pkg/util/flowcontrol/apf_controller.go):
// - a priority level whose spec the filter cannot use (Exempt type for another name than
//   `exempt`, a broken union) is ignored; the mandatory `exempt` and `catch-all` levels and
//   schemas are imagined from their fixed specs while they are missing;
// - a FlowSchema naming a level that is not there (Dangling) is skipped; the others are checked
//   in matchingPrecedence order, then by name; the first match classifies a request;
// - each level's nominal seats are ceil(serverConcurrencyLimit × nominalConcurrencyShares / sum of
//   every level's shares, the exempt one's included); lendablePercent and borrowingLimitPercent give
//   its lower and upper limits (reported in /metrics). Seats are not lent or borrowed here: a
//   limited level always has its nominal seats.

import { createHash } from 'node:crypto';
import type { UserInfo } from '../../auth/user.ts';
import { isPlainObject, type KubeObject } from '../../api/object.ts';
import { MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS } from '../../api/resources/flowcontrol-bootstrap.ts';
import type { RequestInfo } from '../request-info.ts';
import { matchesRules, parseRules, type PolicyRulesWithSubjects } from './match.ts';

/** The stored objects the configuration is computed from. */
export interface FlowControlObjects {
  flowSchemas: readonly KubeObject[];
  priorityLevels: readonly KubeObject[];
}

export interface QueuingConfiguration {
  queues: number;
  handSize: number;
  queueLengthLimit: number;
}

export interface PriorityLevel {
  name: string;
  uid: string;
  exempt: boolean;
  /** Limited levels: queue as this says, or reject at once when undefined (limitResponse Reject). */
  queuing: QueuingConfiguration | undefined;
  nominalLimitSeats: number;
  lowerLimitSeats: number;
  upperLimitSeats: number;
}

export type FlowDistinguisher = 'ByUser' | 'ByNamespace' | undefined;

export interface FlowSchema {
  name: string;
  uid: string;
  matchingPrecedence: number;
  priorityLevel: string;
  distinguisher: FlowDistinguisher;
  rules: PolicyRulesWithSubjects[];
}

export interface FlowControlConfiguration {
  /** Usable schemas, in matching order. */
  flowSchemas: readonly FlowSchema[];
  levels: ReadonlyMap<string, PriorityLevel>;
}

export interface Classification {
  flowSchema: FlowSchema;
  level: PriorityLevel;
  /** The flow within the priority level: the schema's name and the distinguisher's value. */
  flowKey: string;
}

// v1 defaults (pkg/apis/flowcontrol/v1/defaults.go), for specs that were never defaulted (ours).
const DEFAULT_SHARES = 30;
const DEFAULT_QUEUING: QueuingConfiguration = { queues: 64, handSize: 8, queueLengthLimit: 50 };

interface LevelSpec {
  name: string;
  uid: string;
  exempt: boolean;
  shares: number;
  lendablePercent: number;
  borrowingLimitPercent: number | undefined;
  queuing: QueuingConfiguration | undefined;
}

const integer = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : fallback);

/** A level's spec as the filter uses it, or a reason it cannot (upstream's queueSetCompleterForPL refusals). */
export function parsePriorityLevel(object: KubeObject): LevelSpec | string {
  const name = object.metadata.name ?? '';
  const uid = object.metadata.uid ?? derivedUid('prioritylevelconfigurations', name);
  const spec = isPlainObject(object.spec) ? object.spec : {};
  if (spec.type === 'Exempt') {
    if (name !== 'exempt') return 'non-alignment between name and type';
    const exempt = isPlainObject(spec.exempt) ? spec.exempt : {};
    return { name, uid, exempt: true, shares: integer(exempt.nominalConcurrencyShares, 0), lendablePercent: integer(exempt.lendablePercent, 0), borrowingLimitPercent: undefined, queuing: undefined };
  }
  if (spec.type !== 'Limited' || !isPlainObject(spec.limited)) return 'broken union structure at the top, for Limited';
  if (name === 'exempt') return 'non-alignment between name and type';
  const limited = spec.limited;
  const response = isPlainObject(limited.limitResponse) ? limited.limitResponse : {};
  let queuing: QueuingConfiguration | undefined;
  if (response.type === 'Queue') {
    const given = isPlainObject(response.queuing) ? response.queuing : {};
    queuing = {
      queues: integer(given.queues, DEFAULT_QUEUING.queues),
      handSize: integer(given.handSize, DEFAULT_QUEUING.handSize),
      queueLengthLimit: integer(given.queueLengthLimit, DEFAULT_QUEUING.queueLengthLimit),
    };
    // Validation refuses these; a level with them would deal hands from no queues.
    if (queuing.queues === 0 || queuing.handSize === 0 || queuing.handSize > queuing.queues || queuing.queueLengthLimit === 0) return 'invalid queuing configuration';
  } else if (response.type !== 'Reject') {
    return 'broken union structure for limit response';
  }
  return {
    name, uid, exempt: false, shares: integer(limited.nominalConcurrencyShares, DEFAULT_SHARES),
    lendablePercent: Math.min(integer(limited.lendablePercent, 0), 100),
    borrowingLimitPercent: typeof limited.borrowingLimitPercent === 'number' ? integer(limited.borrowingLimitPercent, 0) : undefined,
    queuing,
  };
}

function parseFlowSchema(object: KubeObject): FlowSchema {
  const name = object.metadata.name ?? '';
  const spec = isPlainObject(object.spec) ? object.spec : {};
  const method = isPlainObject(spec.distinguisherMethod) ? spec.distinguisherMethod.type : undefined;
  return {
    name,
    uid: object.metadata.uid ?? derivedUid('flowschemas', name),
    matchingPrecedence: integer(spec.matchingPrecedence, 1000),
    priorityLevel: isPlainObject(spec.priorityLevelConfiguration) && typeof spec.priorityLevelConfiguration.name === 'string' ? spec.priorityLevelConfiguration.name : '',
    distinguisher: method === 'ByUser' || method === 'ByNamespace' ? method : undefined,
    rules: parseRules(spec.rules),
  };
}

export function compileConfiguration(objects: FlowControlObjects, serverConcurrencyLimit: number): FlowControlConfiguration {
  const specs = new Map<string, LevelSpec>();
  for (const object of objects.priorityLevels) {
    const parsed = parsePriorityLevel(object);
    if (typeof parsed !== 'string') specs.set(parsed.name, parsed);
  }
  for (const mandatory of MANDATORY_PRIORITY_LEVELS) {
    const name = mandatory.metadata.name ?? '';
    const parsed = parsePriorityLevel(mandatory);
    if (!specs.has(name) && typeof parsed !== 'string') specs.set(name, parsed);
  }
  let shareSum = 0;
  for (const spec of specs.values()) shareSum += spec.shares;
  const levels = new Map<string, PriorityLevel>();
  for (const spec of specs.values()) {
    const nominal = shareSum > 0 ? Math.ceil(serverConcurrencyLimit * spec.shares / shareSum) : 0;
    const lendable = Math.round(nominal * spec.lendablePercent / 100);
    const borrowing = spec.borrowingLimitPercent === undefined ? serverConcurrencyLimit : Math.round(nominal * spec.borrowingLimitPercent / 100);
    levels.set(spec.name, {
      name: spec.name, uid: spec.uid, exempt: spec.exempt, queuing: spec.queuing,
      nominalLimitSeats: nominal, lowerLimitSeats: nominal - lendable, upperLimitSeats: nominal + borrowing,
    });
  }
  const schemas = new Map<string, FlowSchema>();
  for (const object of objects.flowSchemas) schemas.set(object.metadata.name ?? '', parseFlowSchema(object));
  for (const mandatory of MANDATORY_FLOW_SCHEMAS) if (!schemas.has(mandatory.metadata.name ?? '')) schemas.set(mandatory.metadata.name ?? '', parseFlowSchema(mandatory));
  const flowSchemas = [...schemas.values()]
    .filter((schema) => levels.has(schema.priorityLevel))
    .sort((a, b) => a.matchingPrecedence - b.matchingPrecedence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { flowSchemas, levels };
}

/** The first schema that matches (catch-all when none does, as upstream falls back). */
export function classifyRequest(configuration: FlowControlConfiguration, user: UserInfo, info: RequestInfo): Classification {
  let flowSchema = configuration.flowSchemas.find((schema) => matchesRules(schema.rules, user, info));
  // Only a user in neither system:authenticated nor system:unauthenticated gets here.
  flowSchema ??= configuration.flowSchemas.find((schema) => schema.name === 'catch-all') ?? configuration.flowSchemas[configuration.flowSchemas.length - 1];
  const level = configuration.levels.get(flowSchema.priorityLevel) as PriorityLevel;
  // Upstream tells flows apart only where there is more than one queue to deal them to.
  const distinguished = level.queuing && level.queuing.queues > 1
    ? flowSchema.distinguisher === 'ByUser' ? user.username
      : flowSchema.distinguisher === 'ByNamespace' && info.isResourceRequest ? info.namespace : ''
    : '';
  return { flowSchema, level, flowKey: `${flowSchema.name}\u0000${distinguished}` };
}

/** A stable UID for an object that was not read from storage (the built-in configuration used before the objects are). */
function derivedUid(resource: string, name: string): string {
  const hex = createHash('sha256').update(`${resource}/${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
