// The express application: the security filters (server/security-middleware.ts: audit, authenticate,
// impersonate, authorize), then serve either a non-resource path (version, health, discovery, OpenAPI),
// a review (create-only, never stored), or a resource request through the registry. Every error leaves
// as a metav1.Status.

import express, { type NextFunction, type Request, type Response } from 'express';
import { StatusError, internalError, pathNotFound } from '../api/errors.ts';
import type { ApiRegistry } from '../api/registry/registry.ts';
import { findReviewEndpoint } from '../auth/reviews/index.ts';
import type { RequestSecurity } from '../auth/security.ts';
import { openApiV3Document, openApiV3ResponsePlan, openApiV3RootDocument } from '../api/openapi/documents.ts';
import type { DiscoveryDocuments, SerialisedDocument } from './discovery.ts';
import { flowControlFilter, isLongRunning, DEFAULT_FLOW_CONTROL, type FlowControlObjectsFeed, type FlowControlOptions } from './flow-control/filter.ts';
import { healthChecks, serveHealth, type HealthCheck } from './health.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, enforceRequestDeadline, requestDeadlineMs } from './request-timeout.ts';
import type { StorageHealth } from '../storage/interface.ts';
import { apiServerMetrics, requestLabels } from './metrics/api-server-metrics.ts';
import { METRICS_GROUP, MetricsApi } from './metrics-api/metrics-api.ts';
import { handleResourceRequest, readBody, type HandlerContext } from './resource-handler.ts';
import { handleReview } from './review-handler.ts';
import { noteErrorStatus, securityMiddleware } from './security-middleware.ts';
import { handleBindingsResource, type SubresourceHandlers } from './subresources.ts';
import type { RequestJournal } from './ui/request-journal.ts';
import { serverVersion } from './version.ts';
import { JWKS_CONTENT_TYPE, JWKS_PATH, OPENID_CACHE_CONTROL, OPENID_CONFIG_PATH, type OpenIdMetadata } from '../auth/openid-metadata.ts';
import { errorWantsProtobuf, PROTOBUF_MEDIA_TYPE } from './negotiation.ts';
import { encodeStatus } from './protobuf/encode.ts';
import { stringParam } from '../api/options/index.ts';
import { serveLegacySwaggerProtobuf, serveOpenApiV2 } from './openapi-v2.ts';
import { handleComponentStatuses, type ClientActivity, type ComponentProbe } from './component-statuses.ts';

export interface RequestLogger {
  (line: { verb: string; path: string; status: number; latencyMs: number; user: string }): void;
}

export interface AppOptions {
  registry: ApiRegistry;
  security: RequestSecurity;
  /** The discovery documents, current at each request (they change as CRDs come and go). */
  discovery: { current(): DiscoveryDocuments };
  subresources: SubresourceHandlers;
  handler: HandlerContext['options'];
  log?: RequestLogger;
  /** Concurrency limits and priority levels (server/flow-control); default DEFAULT_FLOW_CONTROL. */
  flowControl?: FlowControlOptions;
  /** The stored FlowSchemas and PriorityLevelConfigurations; without, the bootstrap configuration is used. */
  flowControlObjects?: FlowControlObjectsFeed;
  /** Service account issuer discovery documents (auth/openid-metadata.ts); without them both paths are 404. */
  openIdMetadata?: OpenIdMetadata;
  /** --request-timeout: the deadline of every request that is not long-running (default 60 s). */
  requestTimeoutMs?: number;
  /** The store's health, for the `etcd` check of /healthz and /readyz (default: always healthy). */
  storageHealth?: () => StorageHealth;
  /** What `GET /api/v1/componentstatuses` probes, and the client activity some probes read. */
  componentStatuses?: { probes: ComponentProbe[]; activity: ClientActivity };
  /** Records pod writes for the web view's pod journey (server/ui/). */
  journal?: RequestJournal;
}

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  const context: HandlerContext = { registry: options.registry, options: options.handler, subresources: options.subresources };

  const metricsApi = new MetricsApi(options.registry);
  const security = securityMiddleware(options.security, options.journal);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Upstream bounds a queue wait at a quarter of the request timeout.
  const flowControl = flowControlFilter({ queueWaitLimitMs: requestTimeoutMs / 4, ...(options.flowControl ?? DEFAULT_FLOW_CONTROL) }, options.flowControlObjects);
  const health = healthChecks(options.storageHealth ?? (() => ({ healthy: true })));
  const serve = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const info = req.requestInfo!;
      trackInFlight(req, res);
      options.componentStatuses?.activity.observe(req.kubeUser!.username, res);
      if (info.isResourceRequest) {
        if (info.apiGroup === '' && info.apiVersion === 'v1' && info.resource === 'componentstatuses' && options.componentStatuses) {
          await handleComponentStatuses(req, res, info, options.componentStatuses.probes);
          return;
        }
        const review = findReviewEndpoint(info.apiGroup, info.apiVersion, info.resource);
        if (review) {
          const { authentication, authorizer, ruleResolver } = options.security;
          await handleReview(req, res, info, review, { user: req.kubeUser!, authentication, authorizer, ruleResolver }, options.handler.maxRequestBodyBytes);
          return;
        }
        if (info.apiGroup === '' && info.resource === 'bindings' && !info.name) {
          const pods = options.registry.lookup('', info.apiVersion, 'pods');
          if (!pods || info.verb !== 'create' || !info.namespace) throw pathNotFound();
          const query = req.requestQuery ?? new URL(req.originalUrl, 'http://localhost').searchParams;
          await handleBindingsResource({
            req, res, info, query, ctx: { user: req.kubeUser!, namespace: info.namespace, now: new Date() },
            body: () => readBody(req, options.handler.maxRequestBodyBytes),
          }, pods);
          return;
        }
        if (info.apiGroup === METRICS_GROUP) {
          await metricsApi.handle(req, res, info);
          return;
        }
        await handleResourceRequest(req, res, info, req.kubeUser!, context);
        return;
      }
      if (info.path.replace(/\/+$/, '') === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
        const scrape = await apiServerMetrics.scrape();
        res.status(200).setHeader('Content-Type', scrape.contentType);
        res.send(scrape.body);
        return;
      }
      serveNonResource(req, res, options.discovery.current(), health, options.openIdMetadata);
    } catch (err) {
      next(err);
    }
  };

  // One router layer for the request log, the security filters, flow control and the handler,
  // called in that order as four layers would be: each layer costs express a dispatch on every
  // request. (kube-apiserver runs flow control before authorization; here a forbidden request is
  // answered without waiting for a seat.)
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    // apiserver_request_total and apiserver_request_duration_seconds, for every request whatever its outcome.
    res.once('close', () => {
      const info = req.requestInfo;
      if (!info) return;
      const labels = requestLabels(info, req.method, req.headers['content-type'], (req.requestQuery?.getAll('dryRun').length ?? 0) > 0);
      apiServerMetrics.requests.inc({ ...labels, code: String(res.statusCode) });
      if (!isLongRunning(info)) apiServerMetrics.requestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    if (options.log) {
      res.on('finish', () => options.log!({
        verb: req.requestInfo?.verb ?? req.method, path: req.originalUrl, status: res.statusCode,
        latencyMs: Number(process.hrtime.bigint() - started) / 1e6, user: req.kubeUser?.username ?? '',
      }));
    }
    security(req, res, (err?: unknown) => {
      if (err !== undefined) {
        next(err);
        return;
      }
      const info = req.requestInfo!;
      if (!isLongRunning(info)) {
        // The deadline covers the wait for a seat, the body read and the handler (request-timeout.ts).
        try {
          const query = req.requestQuery ?? new URL(req.originalUrl, 'http://localhost').searchParams;
          enforceRequestDeadline(req, res, requestDeadlineMs(query, requestTimeoutMs));
        } catch (error) {
          next(error);
          return;
        }
      }
      flowControl(req, res, req.kubeUser!, info, () => void serve(req, res, next));
    });
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = toStatusError(err);
    const body = status.toStatus();
    // Anything but a Status error is the handler failing: the audit event's stage is then Panic.
    noteErrorStatus(res, body, !(err instanceof StatusError) && status.code === 500);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A 406 means nothing the client accepts could be encoded: upstream then writes the Status as JSON.
    if (status.code !== 406 && errorWantsProtobuf(req.headers.accept)) {
      res.status(status.code).setHeader('Content-Type', PROTOBUF_MEDIA_TYPE).send(encodeStatus(body));
      return;
    }
    res.status(status.code).setHeader('Content-Type', 'application/json').send(JSON.stringify(body));
  });
  return app;
}

const READ_ONLY = new Set(['get', 'list', 'watch']);

/** apiserver_current_inflight_requests (short requests by kind) and apiserver_longrunning_requests, while they run. */
function trackInFlight(req: Request, res: Response): void {
  const info = req.requestInfo!;
  if (isLongRunning(info)) {
    const gauge = apiServerMetrics.longRunning.labels(requestLabels(info, req.method, req.headers['content-type'], false));
    gauge.inc();
    res.once('close', () => gauge.dec());
    return;
  }
  const kind = READ_ONLY.has(info.verb) ? 'readOnly' : 'mutating';
  apiServerMetrics.inflight.inc({ request_kind: kind });
  res.once('close', () => apiServerMetrics.inflight.dec({ request_kind: kind }));
}

function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  const type = (err as { type?: string })?.type;
  if (type === 'entity.too.large') return new StatusError(413, 'RequestEntityTooLarge', 'Request entity too large');
  return internalError(err);
}

function sendDocument(req: Request, res: Response, doc: SerialisedDocument): void {
  res.setHeader('Content-Type', doc.contentType);
  res.setHeader('ETag', doc.etag);
  if (req.headers['if-none-match'] === doc.etag) {
    res.status(304).end();
    return;
  }
  // A Buffer keeps express from rewriting the Content-Type (it would add "; charset=utf-8" and
  // spaces): kubectl matches the aggregated discovery media type as kube-apiserver sends it.
  res.status(200).send(Buffer.from(doc.body));
}

function serveNonResource(req: Request, res: Response, discovery: DiscoveryDocuments, health: Record<string, HealthCheck[]>, openId: OpenIdMetadata | undefined): void {
  const url = new URL(req.originalUrl, 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (req.method !== 'GET' && req.method !== 'HEAD') throw pathNotFound();
  if (openId && (path === OPENID_CONFIG_PATH || path === JWKS_PATH)) {
    res.setHeader('Content-Type', path === JWKS_PATH ? JWKS_CONTENT_TYPE : 'application/json');
    res.setHeader('Cache-Control', OPENID_CACHE_CONTROL);
    res.status(200).send(Buffer.from(path === JWKS_PATH ? openId.keysetJson : openId.configJson));
    return;
  }
  if (path === '/version') {
    res.status(200).json(serverVersion());
    return;
  }
  if (serveHealth(res, path, url, health)) return;
  if (path === '/api' || path === '/apis') {
    sendDocument(req, res, discovery.root(path, req.headers.accept));
    return;
  }
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'api' && parts.length === 2) {
    const doc = discovery.resourceList(parts[1]);
    if (doc) return sendDocument(req, res, doc);
  }
  if (parts[0] === 'apis' && parts.length === 2) {
    const doc = discovery.group(parts[1]);
    if (doc) return sendDocument(req, res, doc);
  }
  if (parts[0] === 'apis' && parts.length === 3) {
    const doc = discovery.resourceList(`${parts[1]}/${parts[2]}`);
    if (doc) return sendDocument(req, res, doc);
  }
  if (path === '/openapi/v2') return serveOpenApiV2(req, res);
  if (path === '/swagger-2.0.0.pb-v1') return serveLegacySwaggerProtobuf(req, res);
  if (path === '/openapi/v3') {
    const doc = openApiV3RootDocument();
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('ETag', doc.etag);
    res.status(200).send(doc.body);
    return;
  }
  if (path.startsWith('/openapi/v3/')) {
    const rest = path.slice('/openapi/v3/'.length);
    const doc = openApiV3Document(rest);
    // kube-aggregator's answer for a group-version nobody serves: a bare 404, no body.
    if (!doc) return void res.status(404).end();
    const plan = openApiV3ResponsePlan(rest, doc, stringParam(url.searchParams, 'hash'));
    for (const [name, value] of Object.entries(plan.headers)) res.setHeader(name, value);
    if (plan.status === 301) {
      res.status(301).end();
      return;
    }
    res.status(200).send(doc.body);
    return;
  }
  throw pathNotFound();
}
