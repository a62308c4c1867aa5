// POSTs to the review resources (authorization.k8s.io access and rules reviews, authentication.k8s.io
// self-subject and token reviews): decode the body (JSON, YAML or kubectl's protobuf), answer from the
// authenticator and authorizers, reply 201 with the filled-in object. Nothing is stored.

import type { Request, Response } from 'express';
import { badRequest, methodNotSupported } from '../api/errors.ts';
import { isPlainObject, type KubeObject } from '../api/object.ts';
import type { ReviewContext, ReviewEndpoint } from '../auth/reviews/index.ts';
import { OBJECT_BODY_FORMATS, decodeRequestBody, negotiateReply, parseRequestContentType } from './negotiation.ts';
import type { ResourceRequestInfo } from './request-info.ts';
import { readBody } from './resource-handler.ts';
import { encodeMessage, wrapUnknown } from './protobuf/encode.ts';
import { replyMessageNameForKind } from './protobuf/kinds.ts';

export async function handleReview(
  req: Request, res: Response, info: ResourceRequestInfo, endpoint: ReviewEndpoint,
  ctx: Omit<ReviewContext, 'namespace' | 'now'>, maxBodyBytes: number,
): Promise<void> {
  const groupResource = { group: endpoint.group, resource: endpoint.resource };
  if (info.verb !== 'create' || info.name || info.subresource) throw methodNotSupported(groupResource, req.method.toUpperCase());
  if (!endpoint.namespaced && info.namespace) throw badRequest(`namespace is not allowed on this type: ${info.namespace}`);
  // Reviews have no table printer: an Accept that only takes a Table is 406, as for any backend
  // that does not implement metadata.
  const apiVersion = `${endpoint.group}/${endpoint.version}`;
  const messageName = replyMessageNameForKind(apiVersion, endpoint.kind);
  const replyFormat = negotiateReply(req.headers.accept, { target: 'object', tableAllowed: false, protobuf: messageName !== undefined });
  const format = parseRequestContentType(req.headers['content-type'], OBJECT_BODY_FORMATS);
  const raw = await readBody(req, maxBodyBytes);
  if (raw.length === 0) throw badRequest('the body of the request was empty');
  const body = decodeRequestBody(raw, format);
  if (!isPlainObject(body)) throw badRequest('the body of the request must be a JSON object');
  if (body.kind !== undefined && body.kind !== endpoint.kind) {
    throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${endpoint.kind})`);
  }
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  const object = { ...body, metadata: isPlainObject(body.metadata) ? body.metadata : {} } as KubeObject;
  const reply = endpoint.review(object, { ...ctx, namespace: info.namespace, now: new Date() });
  if (replyFormat.encoding === 'protobuf' && messageName) {
    const raw = encodeMessage(messageName, reply as unknown as Parameters<typeof encodeMessage>[1]);
    res.status(201).setHeader('Content-Type', replyFormat.contentType).send(Buffer.concat(wrapUnknown(apiVersion, endpoint.kind, [raw])));
    return;
  }
  res.status(201).setHeader('Content-Type', 'application/json').send(JSON.stringify(reply));
}
