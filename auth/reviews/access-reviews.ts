// authorization.k8s.io/v1 access reviews (pkg/registry/authorization/*subjectaccessreview): "may this
// subject do this?" answered by the same authorizer chain that guards requests. Nothing is stored; the
// reply is the request with its status filled in.

import { badRequest, invalid, invalidField, type FieldError } from '../../api/errors.ts';
import { isPlainObject, setOwnValue, type KubeObject } from '../../api/object.ts';
import { nonResourceAttributes, resourceAttributes, type AuthorizationAttributes, type AuthorizationResult } from '../authorizer.ts';
import type { UserInfo } from '../user.ts';
import type { ReviewContext } from './review-context.ts';

const GROUP = 'authorization.k8s.io';

type Spec = Record<string, unknown>;

/**
 * The review's spec, with it and its attribute objects copied onto null prototypes: every field
 * the authorizer is asked about (user, groups, extra, verb ...) is then one the request carried,
 * never one found on Object.prototype.
 */
function specOf(body: KubeObject): Spec {
  const spec = Object.hasOwn(body, 'spec') && isPlainObject(body.spec) ? ownMembers(body.spec) : ownMembers({});
  for (const field of ['resourceAttributes', 'nonResourceAttributes']) {
    if (isPlainObject(spec[field])) spec[field] = ownMembers(spec[field]);
  }
  return spec;
}

function ownMembers(value: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Go's %#v of the internal NonResourceAttributes, as field.Invalid prints a struct value. */
function goNonResource(value: Record<string, unknown>): string {
  return `authorization.NonResourceAttributes{Path:${JSON.stringify(str(value.path))}, Verb:${JSON.stringify(str(value.verb))}}`;
}

function validateAttributesChoice(spec: Spec): FieldError[] {
  const resource = isPlainObject(spec.resourceAttributes);
  const nonResource = isPlainObject(spec.nonResourceAttributes);
  if (resource && nonResource) {
    return [{ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', message: `Invalid value: ${goNonResource(spec.nonResourceAttributes as Record<string, unknown>)}: cannot be specified in combination with resourceAttributes` }];
  }
  if (!resource && !nonResource) {
    return [invalidField('spec.resourceAttributes', 'null', 'exactly one of nonResourceAttributes or resourceAttributes must be specified')];
  }
  return [];
}

/** authorizationutil.ResourceAttributesFrom / NonResourceAttributesFrom. */
function attributesFrom(user: UserInfo, spec: Spec): AuthorizationAttributes {
  if (isPlainObject(spec.resourceAttributes)) {
    const ra = spec.resourceAttributes;
    return resourceAttributes(user, {
      verb: str(ra.verb), namespace: str(ra.namespace), apiGroup: str(ra.group), apiVersion: str(ra.version) || '*',
      resource: str(ra.resource), subresource: str(ra.subresource), name: str(ra.name),
    });
  }
  const na = isPlainObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : {};
  return nonResourceAttributes(user, str(na.verb), str(na.path));
}

function statusOf(result: AuthorizationResult): Record<string, unknown> {
  return {
    allowed: result.decision === 'allow',
    ...(result.decision === 'deny' ? { denied: true } : {}),
    ...(result.reason ? { reason: result.reason } : {}),
  };
}

function reply(body: KubeObject, kind: string, spec: Spec, result: AuthorizationResult): KubeObject {
  return { kind, apiVersion: `${GROUP}/v1`, metadata: { ...body.metadata }, spec, status: statusOf(result) };
}

export function selfSubjectAccessReview(body: KubeObject, ctx: ReviewContext): KubeObject {
  const spec = specOf(body);
  const errors = validateAttributesChoice(spec);
  if (errors.length) throw invalid('SelfSubjectAccessReview', GROUP, '', errors);
  return reply(body, 'SelfSubjectAccessReview', spec, ctx.authorizer.authorize(attributesFrom(ctx.user, spec)));
}

/** The subject of a SubjectAccessReview: exactly what the spec says (no groups are added). */
function subjectOf(spec: Spec): UserInfo {
  const extra: Record<string, string[]> = {};
  if (isPlainObject(spec.extra)) {
    for (const [key, values] of Object.entries(spec.extra)) if (Array.isArray(values)) setOwnValue(extra, key, values.map(String));
  }
  return {
    username: str(spec.user),
    ...(str(spec.uid) ? { uid: str(spec.uid) } : {}),
    groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [],
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

function validateSubject(spec: Spec): FieldError[] {
  const hasGroups = Array.isArray(spec.groups) && spec.groups.length > 0;
  return str(spec.user) || hasGroups ? [] : [invalidField('spec.user', '', 'at least one of user or group must be specified')];
}

export function subjectAccessReview(body: KubeObject, ctx: ReviewContext): KubeObject {
  const spec = specOf(body);
  const errors = [...validateAttributesChoice(spec), ...validateSubject(spec)];
  if (errors.length) throw invalid('SubjectAccessReview', GROUP, '', errors);
  return reply(body, 'SubjectAccessReview', spec, ctx.authorizer.authorize(attributesFrom(subjectOf(spec), spec)));
}

export function localSubjectAccessReview(body: KubeObject, ctx: ReviewContext): KubeObject {
  if (!ctx.namespace) throw badRequest(`namespace is required on this type: ${ctx.namespace}`);
  const spec = specOf(body);
  const errors = [...validateAttributesChoice(spec), ...validateSubject(spec)];
  if (isPlainObject(spec.nonResourceAttributes)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', message: `Invalid value: ${goNonResource(spec.nonResourceAttributes)}: disallowed on this kind of request` });
  }
  if (errors.length) throw invalid('LocalSubjectAccessReview', GROUP, body.metadata.name ?? '', errors);
  const ra = isPlainObject(spec.resourceAttributes) ? spec.resourceAttributes : {};
  if (str(ra.namespace) !== ctx.namespace) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${ctx.namespace}`);
  const result = ctx.authorizer.authorize(attributesFrom(subjectOf(spec), spec));
  const replied = reply(body, 'LocalSubjectAccessReview', spec, result);
  replied.metadata.namespace = ctx.namespace;
  return replied;
}
