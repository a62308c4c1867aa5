// GET /openapi/v2 as kube-openapi's versioned handler serves it: JSON or gnostic protobuf by the
// Accept header (the first acceptable clause in preference order wins, no Accept means */*,
// nothing acceptable is a bare 406), with the document hash as ETag and `Vary: Accept`. The
// legacy /swagger-2.0.0.pb-v1 path, which client-go falls back to, serves the protobuf bytes.

import type { Request, Response } from 'express';
import { openApiV2Document, openApiV2ProtobufDocument, type OpenApiV2DocumentBytes } from '../api/openapi/documents.ts';
import { parseAccept } from './negotiation.ts';

const PROTOBUF_V2 = 'com.github.proto-openapi.spec.v2@v1.0+protobuf';
const PROTOBUF_V2_LEGACY = 'com.github.proto-openapi.spec.v2.v1.0+protobuf';

const ACCEPTED: { subtype: string; contentType: string; document: () => OpenApiV2DocumentBytes }[] = [
  { subtype: 'json', contentType: 'application/json', document: openApiV2Document },
  // Answered with the dotted spelling: Go's mime parser (client-go) rejects the `@` of the asked one.
  { subtype: PROTOBUF_V2, contentType: `application/${PROTOBUF_V2_LEGACY}`, document: openApiV2ProtobufDocument },
  { subtype: PROTOBUF_V2_LEGACY, contentType: `application/${PROTOBUF_V2_LEGACY}`, document: openApiV2ProtobufDocument },
];

export function serveOpenApiV2(req: Request, res: Response): void {
  res.setHeader('Vary', 'Accept');
  for (const clause of parseAccept(req.headers.accept || '*/*')) {
    for (const accepted of ACCEPTED) {
      if (clause.type !== 'application' && clause.type !== '*') continue;
      if (clause.subtype !== accepted.subtype && clause.subtype !== '*') continue;
      sendDocument(req, res, accepted.contentType, accepted.document());
      return;
    }
  }
  res.status(406).end();
}

export function serveLegacySwaggerProtobuf(req: Request, res: Response): void {
  sendDocument(req, res, 'application/octet-stream', openApiV2ProtobufDocument());
}

function sendDocument(req: Request, res: Response, contentType: string, document: OpenApiV2DocumentBytes): void {
  res.setHeader('Content-Type', contentType);
  res.setHeader('ETag', document.etag);
  if (req.headers['if-none-match'] === document.etag) {
    res.status(304).end();
    return;
  }
  res.status(200).end(document.body);
}
