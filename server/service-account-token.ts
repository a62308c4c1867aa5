// POST serviceaccounts/{name}/token: the TokenRequest API (pkg/registry/core/serviceaccount/storage/
// token.go). Defaults (1 h, the API audiences), ValidateTokenRequest's bounds, binding to a pod (which
// must exist with the uid given), and a bound token signed with the server's key.

import { badRequest, conflict, invalid, invalidField, notFound } from '../api/errors.ts';
import { isPlainObject, type KubeObject } from '../api/object.ts';
import type { ApiRegistry } from '../api/registry/registry.ts';
import { API_AUDIENCES, issueServiceAccountToken, type ObjectRef } from '../auth/service-account-tokens.ts';
import type { SigningKey } from '../auth/signing-key.ts';
import { OBJECT_BODY_FORMATS, decodeRequestBody, parseRequestContentType } from './negotiation.ts';
import { sendObject } from './resource-handler.ts';
import type { SubresourceHandler } from './subresources.ts';

const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const BINDABLE_KINDS = ['Pod', 'Secret', 'Node'];

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function serviceAccountTokenHandler(signingKey: () => Promise<SigningKey>, registry: ApiRegistry): SubresourceHandler {
  return {
    verbs: ['create'],
    async handle(request) {
      const format = parseRequestContentType(request.req.headers['content-type'], OBJECT_BODY_FORMATS);
      const body = decodeRequestBody(await request.body(), format);
      if (!isPlainObject(body)) throw badRequest('the body of the request must be a TokenRequest object');
      if (body.kind !== undefined && body.kind !== 'TokenRequest') {
        throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (TokenRequest)`);
      }
      const name = request.info.name;
      const namespace = request.ctx.namespace;
      const metadata = isPlainObject(body.metadata) ? body.metadata : {};
      if (typeof metadata.namespace === 'string' && metadata.namespace && metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      const spec = isPlainObject(body.spec) ? { ...body.spec } : {};
      const expirationSeconds = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : DEFAULT_EXPIRATION_SECONDS;
      const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : [...API_AUDIENCES];
      if (expirationSeconds < MIN_EXPIRATION_SECONDS) {
        throw invalid('TokenRequest', 'authentication.k8s.io', name, [invalidField('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes')]);
      }
      if (expirationSeconds > MAX_EXPIRATION_SECONDS) {
        throw invalid('TokenRequest', 'authentication.k8s.io', name, [invalidField('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds')]);
      }
      const account: KubeObject = await request.store.get(namespace, name);
      let pod: ObjectRef | undefined;
      const bound = isPlainObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
      if (bound) {
        const kind = typeof bound.kind === 'string' ? bound.kind : '';
        const boundName = typeof bound.name === 'string' ? bound.name : '';
        if (!BINDABLE_KINDS.includes(kind)) throw badRequest(`cannot bind token for object of type ${kind}`);
        const resource = kind === 'Pod' ? 'pods' : kind === 'Secret' ? 'secrets' : 'nodes';
        const store = registry.lookup('', 'v1', resource);
        if (!store) throw notFound({ group: '', resource }, boundName);
        const object = await store.get(kind === 'Node' ? '' : namespace, boundName);
        const uid = object.metadata.uid ?? '';
        if (typeof bound.uid === 'string' && bound.uid && bound.uid !== uid) {
          throw conflict({ group: '', resource: kind }, boundName,
            `the UID in the bound object reference (${bound.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
        }
        if (kind === 'Pod') pod = { name: boundName, uid };
        spec.boundObjectRef = { ...bound, uid };
      }
      const key = await signingKey();
      const { token, expiresAt } = issueServiceAccountToken(key, {
        namespace, serviceAccount: { name, uid: account.metadata.uid ?? '' }, pod, audiences, expirationSeconds, now: request.ctx.now,
      });
      const reply: KubeObject = {
        kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
        metadata: { name, namespace, creationTimestamp: rfc3339(request.ctx.now) },
        spec: { ...spec, audiences, expirationSeconds },
        status: { token, expirationTimestamp: rfc3339(expiresAt) },
      };
      sendObject(request.req, request.res, request.store, reply, 201, 'object');
    },
  };
}

