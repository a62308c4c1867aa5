// From a parsed request to authorization attributes, with the adjustments kube-apiserver's
// RequestInfoFactory makes: a namespace addresses itself (`GET /api/v1/namespaces/x` is in namespace
// x), and a list or watch with `fieldSelector=metadata.name=<n>` names that object, so resourceNames
// rules apply to `kubectl get pod web -w` and to kubectl's waits.

import { parseFieldSelector, type FieldRequirement } from '../api/selectors/field-selector.ts';
import { StatusError } from '../api/errors.ts';
import { stringParam, type RawQuery } from '../api/options/index.ts';
import type { RequestInfo } from '../server/request-info.ts';
import { nonResourceAttributes, resourceAttributes, type AuthorizationAttributes } from './authorizer.ts';
import type { UserInfo } from './user.ts';

export function requestAttributes(user: UserInfo, info: RequestInfo, query: RawQuery): AuthorizationAttributes {
  if (!info.isResourceRequest) return nonResourceAttributes(user, info.verb, info.path);
  let namespace = info.namespace;
  let name = info.name;
  if (info.apiGroup === '' && info.resource === 'namespaces' && !namespace && name) namespace = name;
  let fieldSelector: FieldRequirement[] | undefined;
  if (info.verb === 'list' || info.verb === 'watch') {
    const raw = stringParam(query, 'fieldSelector');
    if (raw) {
      try {
        fieldSelector = parseFieldSelector(raw).requirements;
      } catch (err) {
        // A selector that does not parse authorizes as none; the handler reports the syntax error.
        if (!(err instanceof StatusError)) throw err;
      }
      const byName = fieldSelector?.find((r) => r.field === 'metadata.name' && r.operator === '=');
      if (!name && byName && isValidPathSegmentName(byName.value)) name = byName.value;
    }
  }
  return resourceAttributes(user, {
    verb: info.verb, namespace, apiGroup: info.apiGroup, apiVersion: info.apiVersion,
    resource: info.resource, subresource: info.subresource, name, ...(fieldSelector ? { fieldSelector } : {}),
  });
}

function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}
