// 403 replies worded as kube-apiserver's responsewriters.Forbidden: `User "alice" cannot list resource
// "pods" in API group "" in the namespace "default"`, wrapped by errors.NewForbidden into
// `pods is forbidden: ...` (or `pods "web" is forbidden: ...`), with the authorizers' reason appended.

import { forbidden, type StatusError } from '../api/errors.ts';
import type { AuthorizationAttributes } from './authorizer.ts';

export function forbiddenMessage(attributes: AuthorizationAttributes): string {
  const user = JSON.stringify(attributes.user.username);
  if (!attributes.resourceRequest) return `User ${user} cannot ${attributes.verb} path ${JSON.stringify(attributes.path)}`;
  const resource = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
  const where = attributes.namespace ? `in the namespace ${JSON.stringify(attributes.namespace)}` : 'at the cluster scope';
  return `User ${user} cannot ${attributes.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attributes.apiGroup)} ${where}`;
}

export function forbiddenError(attributes: AuthorizationAttributes, reason: string): StatusError {
  const detail = reason ? `${forbiddenMessage(attributes)}: ${reason}` : forbiddenMessage(attributes);
  if (!attributes.resourceRequest) return forbidden(`forbidden: ${detail}`);
  const groupResource = { group: attributes.apiGroup, resource: attributes.resource };
  const qualified = attributes.apiGroup ? `${attributes.resource}.${attributes.apiGroup}` : attributes.resource;
  const subject = attributes.name ? `${qualified} ${JSON.stringify(attributes.name)}` : qualified;
  return forbidden(`${subject} is forbidden: ${detail}`, groupResource, attributes.name || undefined);
}
