// Parse a request path into what it addresses, as k8s.io/apiserver/pkg/endpoints/request.RequestInfoFactory:
//   /api/v1/namespaces/{ns}/pods/{name}/{subresource}
//   /apis/{group}/{version}/namespaces/{ns}/{resource}/{name}
//   /api/v1/watch/namespaces/{ns}/pods   (legacy watch paths)
// Everything else is a non-resource request (/version, /healthz, /openapi/v3, ...).

import { badRequest } from '../api/errors.ts';
import { isWatchRequest, type RawQuery } from '../api/options/index.ts';

export type RequestVerb =
  | 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'proxy';

export interface ResourceRequestInfo {
  isResourceRequest: true;
  path: string;
  verb: RequestVerb;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

export interface NonResourceRequestInfo {
  isResourceRequest: false;
  path: string;
  /** Lower-case HTTP method, as RBAC's nonResourceURLs rules name verbs (get, post, ...). */
  verb: string;
}

export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo;

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRequestInfo(method: string, path: string, query: RawQuery): RequestInfo {
  const lowerMethod = method.toLowerCase();
  const parts = path.split('/').filter((p) => p.length > 0).map((part) => decodePathSegment(path, part));
  const nonResource: NonResourceRequestInfo = { isResourceRequest: false, path, verb: lowerMethod };
  let rest: string[];
  let apiGroup = '';
  let apiVersion: string;
  if (parts[0] === 'api' && parts.length >= 2) {
    apiVersion = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    apiGroup = parts[1];
    apiVersion = parts[2];
    rest = parts.slice(3);
  } else {
    return nonResource;
  }
  if (rest.length === 0) return nonResource;

  let verb: RequestVerb;
  switch (lowerMethod) {
    case 'post': verb = 'create'; break;
    case 'get': case 'head': verb = 'get'; break;
    case 'put': verb = 'update'; break;
    case 'patch': verb = 'patch'; break;
    case 'delete': verb = 'delete'; break;
    default: return nonResource;
  }
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
    if (rest.length === 0) return nonResource;
  }

  let namespace = '';
  // /namespaces/{name}[/status|/finalize] address the namespace itself; /namespaces/{ns}/{resource}... its contents.
  if (rest[0] === 'namespaces' && rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = rest[0];
  const name = rest[1] ?? '';
  const subresource = rest[2] ?? '';
  // nodes/{name}/proxy/{path...}: the rest of the path is the proxied one (RequestInfoFactory keeps parts[2]).
  if (rest.length > 3 && !(subresource === 'proxy' && resource === 'nodes')) return nonResource;

  if (legacyWatch) verb = 'watch';
  else if (verb === 'get' && !name) verb = isWatchRequest(query) ? 'watch' : 'list';
  else if (verb === 'get' && name && !subresource && isWatchRequest(query)) verb = 'watch';
  else if (verb === 'delete' && !name) verb = 'deletecollection';

  return { isResourceRequest: true, path, verb, apiGroup, apiVersion, namespace, resource, subresource, name };
}

/**
 * A percent-decoded path segment. A malformed escape is the client's error: Go's net/http refuses
 * the request line (url.ParseRequestURI) before kube-apiserver sees it; here it is a 400 Status
 * with Go's wording, where decodeURIComponent's URIError used to become a 500. Well-formed escapes
 * of bytes that are not UTF-8 (`%ff`) are legal in Go's URLs: they decode with replacement characters.
 */
function decodePathSegment(path: string, segment: string): string {
  if (!segment.includes('%')) return segment;
  for (let i = segment.indexOf('%'); i >= 0; i = segment.indexOf('%', i + 1)) {
    if (!/^[0-9a-fA-F]{2}$/.test(segment.slice(i + 1, i + 3))) {
      throw badRequest(`parse ${JSON.stringify(path)}: invalid URL escape ${JSON.stringify(segment.slice(i, i + 3))}`);
    }
  }
  try {
    return decodeURIComponent(segment);
  } catch {
    const bytes: number[] = [];
    for (let i = 0; i < segment.length; i++) {
      if (segment[i] === '%') {
        bytes.push(parseInt(segment.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(segment[i], 'utf8'));
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }
}
