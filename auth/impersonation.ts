// User impersonation (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): Impersonate-User,
// Impersonate-Group, Impersonate-Uid and Impersonate-Extra-<key> headers switch the request to another
// identity, provided the caller may `impersonate` each of them (users, groups, serviceaccounts, uids,
// userextras/<key>). Refusals are 403s worded like any other authorization failure.

import { setOwnValue } from '../api/object.ts';
import { StatusError } from '../api/errors.ts';
import { resourceAttributes, type AuthorizationAttributes, type Authorizer } from './authorizer.ts';
import { forbiddenError } from './forbidden.ts';
import type { UserInfo } from './user.ts';
import {
  ALL_AUTHENTICATED_GROUP, ALL_UNAUTHENTICATED_GROUP, ANONYMOUS_USER, serviceAccountGroups, serviceAccountUsername,
  splitServiceAccountUsername,
} from './well-known.ts';

export const IMPERSONATE_USER = 'impersonate-user';
export const IMPERSONATE_GROUP = 'impersonate-group';
export const IMPERSONATE_UID = 'impersonate-uid';
export const IMPERSONATE_EXTRA_PREFIX = 'impersonate-extra-';

/** Header name (lower case) → every value sent, as Node's `req.headersDistinct` gives them. */
export type HeaderValues = Record<string, string[] | undefined>;

/**
 * The identity the request acts as: the authenticated user when no impersonation header is present,
 * otherwise the impersonated one once every part of it is authorized. Throws a StatusError otherwise.
 */
export function impersonate(requestor: UserInfo, headers: HeaderValues, authorizer: Authorizer): UserInfo | undefined {
  const requestedUser = first(headers[IMPERSONATE_USER]);
  const groups = headers[IMPERSONATE_GROUP] ?? [];
  const uid = first(headers[IMPERSONATE_UID]);
  const extras: [string, string][] = [];
  for (const [header, values] of Object.entries(headers)) {
    if (!header.startsWith(IMPERSONATE_EXTRA_PREFIX)) continue;
    const key = unescapeExtraKey(header.slice(IMPERSONATE_EXTRA_PREFIX.length).toLowerCase());
    for (const value of values ?? []) extras.push([key, value]);
  }
  if (!requestedUser) {
    if (groups.length || extras.length || uid) {
      throw new StatusError(500, 'InternalError', 'Internal error occurred: requested impersonation of groups, extra or uid without impersonating a user');
    }
    return undefined;
  }

  const checks: AuthorizationAttributes[] = [];
  const check = (resource: string, name: string, extra: { apiGroup?: string; namespace?: string; subresource?: string } = {}) =>
    checks.push(resourceAttributes(requestor, { verb: 'impersonate', resource, name, apiVersion: '', ...extra }));

  let username: string;
  let impersonatedGroups: string[] = [];
  const serviceAccount = splitServiceAccountUsername(requestedUser);
  if (serviceAccount) {
    check('serviceaccounts', serviceAccount.name, { namespace: serviceAccount.namespace });
    username = serviceAccountUsername(serviceAccount.namespace, serviceAccount.name);
    if (groups.length === 0) impersonatedGroups = serviceAccountGroups(serviceAccount.namespace);
  } else {
    check('users', requestedUser);
    username = requestedUser;
  }
  for (const group of groups) {
    check('groups', group);
    impersonatedGroups.push(group);
  }
  const extra: Record<string, string[]> = {};
  for (const [key, value] of extras) {
    check('userextras', value, { apiGroup: 'authentication.k8s.io', subresource: key });
    // Own members only: a header Impersonate-Extra-constructor must not find Object's members.
    if (Object.hasOwn(extra, key)) extra[key].push(value);
    else setOwnValue(extra, key, [value]);
  }
  if (uid) check('uids', uid, { apiGroup: 'authentication.k8s.io' });

  for (const attributes of checks) {
    const result = authorizer.authorize(attributes);
    if (result.decision !== 'allow') throw forbiddenError(attributes, result.reason);
  }

  // An impersonated user is an authenticated one (anonymous: an unauthenticated one) unless the
  // impersonated groups already say which.
  if (username !== ANONYMOUS_USER) {
    if (!impersonatedGroups.includes(ALL_AUTHENTICATED_GROUP) && !impersonatedGroups.includes(ALL_UNAUTHENTICATED_GROUP)) {
      impersonatedGroups.push(ALL_AUTHENTICATED_GROUP);
    }
  } else if (!impersonatedGroups.includes(ALL_UNAUTHENTICATED_GROUP)) {
    impersonatedGroups.push(ALL_UNAUTHENTICATED_GROUP);
  }
  return {
    username,
    ...(uid ? { uid } : {}),
    groups: impersonatedGroups,
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

function first(values: string[] | undefined): string | undefined {
  const value = values?.[0];
  return value ? value : undefined;
}

/** Extra keys travel percent-encoded in header names (legal header characters only). */
function unescapeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}
