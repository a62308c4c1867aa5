// Node selection rules as k8s.io/component-helpers/scheduling/corev1/nodeaffinity evaluates them:
// nodeSelector labels AND (required nodeSelectorTerms ORed, each term's requirements ANDed).
import type { V1Node, V1NodeSelectorRequirement, V1NodeSelectorTerm, V1Pod, V1PreferredSchedulingTerm } from '@kubernetes/client-node';

const INTEGER_PATTERN = /^[+-]?\d+$/;

/** Evaluates one matchExpressions requirement against node labels; undefined when the requirement is invalid. */
function labelRequirementMatches(requirement: V1NodeSelectorRequirement, labels: Record<string, string>): boolean | undefined {
  const present = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = present ? labels[requirement.key] : undefined;
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      if (values.length === 0) return undefined;
      return present && values.includes(value as string);
    case 'NotIn':
      if (values.length === 0) return undefined;
      return !present || !values.includes(value as string);
    case 'Exists':
      if (values.length !== 0) return undefined;
      return present;
    case 'DoesNotExist':
      if (values.length !== 0) return undefined;
      return !present;
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1 || !INTEGER_PATTERN.test(values[0])) return undefined;
      if (!present || !INTEGER_PATTERN.test(value as string)) return false;
      const have = BigInt(value as string);
      const want = BigInt(values[0]);
      return requirement.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return undefined;
  }
}

/** matchFields supports only metadata.name with In/NotIn and exactly one value. */
function fieldRequirementMatches(requirement: V1NodeSelectorRequirement, node: V1Node): boolean | undefined {
  const values = requirement.values ?? [];
  if (requirement.key !== 'metadata.name' || values.length !== 1) return undefined;
  const name = node.metadata?.name ?? '';
  if (requirement.operator === 'In') return name === values[0];
  if (requirement.operator === 'NotIn') return name !== values[0];
  return undefined;
}

/** A term with no requirements, or with an invalid one, matches no node (parse errors are ignored upstream). */
export function nodeSelectorTermMatches(term: V1NodeSelectorTerm, node: V1Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const requirement of expressions) if (labelRequirementMatches(requirement, labels) !== true) return false;
  for (const requirement of fields) if (fieldRequirementMatches(requirement, node) !== true) return false;
  return true;
}

/** nodeSelector plus requiredDuringSchedulingIgnoredDuringExecution. */
export function podRequiredAffinityMatches(pod: V1Pod, node: V1Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    if (labels[key] !== value) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((term) => nodeSelectorTermMatches(term, node));
}

/** Sum of the weights of preferred terms the node matches (NodeAffinity Score before normalising). */
export function preferredAffinityScore(terms: readonly V1PreferredSchedulingTerm[], node: V1Node): number {
  let score = 0;
  for (const term of terms) {
    if (term.weight === 0) continue;
    if (nodeSelectorTermMatches(term.preference, node)) score += term.weight;
  }
  return score;
}
