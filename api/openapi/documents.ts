// The OpenAPI documents as the HTTP layer serves them: `/openapi/v3` (the discovery root),
// `/openapi/v3/<group-version>` and `/openapi/v2` (JSON). Bytes and hashes are computed once, on
// first use. Hashes follow kube-openapi's handler3: uppercase hex SHA-512 of the JSON bytes, used
// both as the `?hash=` of each serverRelativeURL and, quoted, as the ETag.

import { createHash } from 'node:crypto';
import { SERVED_GROUP_VERSIONS } from './served.ts';
import { generatedV2Text, generatedV3Document } from './generated-documents.ts';
import { swaggerToGnosticProtobuf } from './v2-protobuf.ts';

export interface OpenApiV3DocumentBytes {
  /** Compact JSON. */
  body: Buffer;
  /** The ETag header value: the hash in double quotes. */
  etag: string;
  /** Uppercase hex SHA-512 of `body`; the `?hash=` clients put in the URL. */
  hash: string;
}

export interface OpenApiV2DocumentBytes {
  body: Buffer;
  etag: string;
}

export interface OpenApiV3Root {
  paths: Record<string, { serverRelativeURL: string }>;
}

/** What to answer for `GET /openapi/v3/<path>?hash=<requested>`, after the document was found. */
export interface OpenApiV3ResponsePlan {
  /** 200 with the body, or 301 to the current URL when the requested hash is stale. */
  status: 200 | 301;
  headers: Record<string, string>;
}

function sha512Hex(bytes: Buffer): string {
  return createHash('sha512').update(bytes).digest('hex').toUpperCase();
}

function serverRelativeURL(openApiPath: string, hash: string): string {
  return `/openapi/v3/${openApiPath}?hash=${hash}`;
}

let v3Documents: Map<string, OpenApiV3DocumentBytes> | undefined;

function v3DocumentMap(): Map<string, OpenApiV3DocumentBytes> {
  if (!v3Documents) {
    v3Documents = new Map();
    for (const gv of SERVED_GROUP_VERSIONS) {
      // Re-serialised compactly: the committed files are indented for reviewable diffs.
      const body = Buffer.from(JSON.stringify(generatedV3Document(gv)));
      const hash = sha512Hex(body);
      v3Documents.set(gv.openApiPath, { body, hash, etag: `"${hash}"` });
    }
  }
  return v3Documents;
}

/** Documents of custom resources (CRDs), replaced as a whole whenever the served set changes. */
let customV3Documents = new Map<string, OpenApiV3DocumentBytes>();
let customV2Definitions: Record<string, unknown> = {};
/** Set by setCustomOpenApiDocuments, built on the next read (off the CRD's path to Established). */
let pendingCustom: (() => { v3: ReadonlyMap<string, unknown>; v2Definitions: Record<string, unknown> }) | undefined;

function v3Bytes(document: unknown): OpenApiV3DocumentBytes {
  const body = Buffer.from(JSON.stringify(document));
  const hash = sha512Hex(body);
  return { body, hash, etag: `"${hash}"` };
}

function buildPendingCustom(): void {
  if (!pendingCustom) return;
  const { v3, v2Definitions } = pendingCustom();
  pendingCustom = undefined;
  const next = new Map<string, OpenApiV3DocumentBytes>();
  for (const [path, document] of v3) if (!v3DocumentMap().has(path)) next.set(path, v3Bytes(document));
  customV3Documents = next;
  customV2Definitions = v2Definitions;
}

/**
 * Publishes the custom resources' documents (`apis/<group>/<version>` → v3 document) and their
 * swagger 2.0 definitions, built by `build` when next read; a group version the built-in documents
 * serve is left to them.
 */
export function setCustomOpenApiDocuments(build: () => { v3: ReadonlyMap<string, unknown>; v2Definitions: Record<string, unknown> }): void {
  pendingCustom = build;
  v3RootBytes = undefined;
  v2Document = undefined;
}

/** `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}, ...}}` */
export function openApiV3Root(): OpenApiV3Root {
  buildPendingCustom();
  const paths: OpenApiV3Root['paths'] = {};
  for (const [openApiPath, document] of [...v3DocumentMap(), ...customV3Documents]) {
    paths[openApiPath] = { serverRelativeURL: serverRelativeURL(openApiPath, document.hash) };
  }
  return { paths };
}

let v3RootBytes: OpenApiV2DocumentBytes | undefined;

/** The root as bytes with its quoted-hash ETag, for answering `GET /openapi/v3`. */
export function openApiV3RootDocument(): OpenApiV2DocumentBytes {
  if (!v3RootBytes) {
    const body = Buffer.from(JSON.stringify(openApiV3Root()));
    v3RootBytes = { body, etag: `"${sha512Hex(body)}"` };
  }
  return v3RootBytes;
}

/** The document for `api/v1`, `apis/rbac.authorization.k8s.io/v1`, ...; undefined if not served. */
export function openApiV3Document(pathAfterV3: string): OpenApiV3DocumentBytes | undefined {
  const path = pathAfterV3.replace(/^\/+|\/+$/g, '');
  buildPendingCustom();
  return v3DocumentMap().get(path) ?? customV3Documents.get(path);
}

/**
 * Status and headers kube-apiserver uses for a group-version document: the ETag always; with a
 * matching `?hash=` the response is immutable (`Cache-Control: public, immutable`, Expires one
 * year ahead); with a stale hash it is a 301 to the current serverRelativeURL.
 */
export function openApiV3ResponsePlan(pathAfterV3: string, document: OpenApiV3DocumentBytes, requestedHash: string | undefined, now = new Date()): OpenApiV3ResponsePlan {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ETag: document.etag, Vary: 'Accept' };
  if (requestedHash === undefined || requestedHash === '') return { status: 200, headers };
  if (requestedHash !== document.hash) {
    return { status: 301, headers: { Location: serverRelativeURL(pathAfterV3.replace(/^\/+|\/+$/g, ''), document.hash) } };
  }
  const expires = new Date(now);
  expires.setUTCFullYear(expires.getUTCFullYear() + 1);
  headers['Cache-Control'] = 'public, immutable';
  headers.Expires = expires.toUTCString();
  return { status: 200, headers };
}

let v2Document: OpenApiV2DocumentBytes | undefined;

/** The trimmed swagger 2.0 document as compact JSON. */
export function openApiV2Document(): OpenApiV2DocumentBytes {
  buildPendingCustom();
  if (!v2Document) {
    const document = JSON.parse(generatedV2Text()) as { definitions: Record<string, unknown> };
    Object.assign(document.definitions, customV2Definitions);
    const body = Buffer.from(JSON.stringify(document));
    v2Document = { body, etag: `"${sha512Hex(body)}"` };
  }
  return v2Document;
}

let v2Protobuf: OpenApiV2DocumentBytes | undefined;

/** The same document as gnostic's openapi.v2.Document protobuf (kube-openapi's protoCache). */
export function openApiV2ProtobufDocument(): OpenApiV2DocumentBytes {
  if (!v2Protobuf) {
    const body = swaggerToGnosticProtobuf(JSON.parse(generatedV2Text()) as Record<string, unknown>);
    v2Protobuf = { body, etag: `"${sha512Hex(body)}"` };
  }
  return v2Protobuf;
}
