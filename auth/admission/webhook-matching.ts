// Which webhooks (and policies) a request concerns, as k8s.io/apiserver/pkg/admission/plugin/webhook
// decides: rules by operation, group, version, resource/subresource and scope; namespaceSelector
// against the namespace's labels (the object's own for a Namespace, always true for other
// cluster-scoped resources); objectSelector against the new or the old object's labels.

import type { AdmissionAttributes } from '../../api/admission.ts';
import { matchLabelSelector, type LabelSelectorSpec } from '../../api/selectors/label-selector.ts';
import type { WebhookRule } from '../../api/resources/webhook-validation.ts';

/** Resources whose writes never go to webhooks or policies (upstream excludes them to avoid lock-outs). */
export function isAdmissionConfigurationResource(attributes: AdmissionAttributes): boolean {
  return attributes.group === 'admissionregistration.k8s.io';
}

export interface MatchTarget {
  operation: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespaced: boolean;
}

function matchesList(list: string[] | undefined, value: string): boolean {
  return (list ?? []).some((v) => v === '*' || v === value);
}

function matchesResource(resources: string[] | undefined, resource: string, subresource: string): boolean {
  const full = subresource ? `${resource}/${subresource}` : resource;
  return (resources ?? []).some((pattern) => {
    if (pattern === '*/*' || pattern === full) return true;
    if (pattern === '*') return subresource === '';
    const [r, s] = pattern.split('/');
    if (s === undefined) return false;
    if (r === '*' && s === subresource) return true;
    return r === resource && s === '*' && subresource !== '';
  });
}

export function ruleMatches(rule: WebhookRule, target: MatchTarget): boolean {
  if (!matchesList(rule.operations, target.operation)) return false;
  if (!matchesList(rule.apiGroups, target.group)) return false;
  if (!matchesList(rule.apiVersions, target.version)) return false;
  if (!matchesResource(rule.resources, target.resource, target.subresource)) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster' && target.namespaced) return false;
  if (scope === 'Namespaced' && !target.namespaced) return false;
  return true;
}

export type NamespaceLabels = (namespace: string) => Promise<Record<string, string> | undefined>;

export async function namespaceSelectorMatches(selector: LabelSelectorSpec | undefined, attributes: AdmissionAttributes, namespaceLabels: NamespaceLabels): Promise<boolean> {
  if (!selector || (!selector.matchLabels && !selector.matchExpressions?.length) || Object.keys(selector).length === 0) return true;
  if (attributes.group === '' && attributes.resource === 'namespaces' && attributes.subresource === '') {
    const labels = (attributes.object ?? attributes.oldObject)?.metadata.labels ?? {};
    return matchLabelSelector(selector, labels);
  }
  if (!attributes.namespace) return true;
  const labels = await namespaceLabels(attributes.namespace);
  return matchLabelSelector(selector, labels ?? {});
}

export function objectSelectorMatches(selector: LabelSelectorSpec | undefined, attributes: AdmissionAttributes): boolean {
  if (!selector || Object.keys(selector).length === 0) return true;
  const candidates = [attributes.object, attributes.oldObject].filter((o) => o !== undefined);
  // An object without metadata (CONNECT's options) matches no selector, as meta.Accessor fails upstream.
  return candidates.some((o) => o!.metadata !== undefined && matchLabelSelector(selector, o!.metadata.labels ?? {}));
}
