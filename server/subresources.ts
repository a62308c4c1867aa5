// Subresources and resources that are not plain stored objects: pods/binding and the core
// `bindings` resource (set spec.nodeName once), pods/log (proxied to the node's kubelet), and
// namespaces/finalize (the namespace controller's way to release a namespace).

import type { Request, Response } from 'express';
import { request as httpsRequest } from 'node:https';
import { StatusError, badRequest, notFound } from '../api/errors.ts';
import { deepCopy, displayValue, isPlainObject, type KubeObject } from '../api/object.ts';
import type { RequestContext } from '../api/resource.ts';
import type { GenericStore } from '../api/registry/store.ts';
import { KeyNotFoundError } from '../storage/interface.ts';
import { assignPodToNode } from '../api/resources/pods.ts';
import { OBJECT_BODY_FORMATS, decodeRequestBody, parseRequestContentType } from './negotiation.ts';
import type { RequestVerb, ResourceRequestInfo } from './request-info.ts';
import { decodeCreateOptions, decodePodLogOptions, encodePodLogOptions, validatePodLogOptions, type RawQuery } from '../api/options/index.ts';
import { parseDryRun } from './write-options.ts';
import { sendObject } from './resource-handler.ts';
import { kubeletLocation, type KubeletClientCertificate } from './kubelet-location.ts';
import { isWebSocketRequest, streamOverWebSocket } from './log-websocket.ts';

export interface SubresourceRequest {
  req: Request;
  res: Response;
  info: ResourceRequestInfo;
  ctx: RequestContext;
  store: GenericStore;
  query: RawQuery;
  body: () => Promise<Buffer>;
}

export interface SubresourceHandler {
  verbs: RequestVerb[];
  handle(request: SubresourceRequest): Promise<void>;
}

export class SubresourceHandlers {
  private readonly handlers = new Map<string, SubresourceHandler>();

  register(group: string, resource: string, subresource: string, handler: SubresourceHandler): void {
    this.handlers.set(`${group}/${resource}/${subresource}`, handler);
  }

  /** A handler for a subresource of any resource (custom resources' scale); it 404s for resources without it. */
  registerForAll(subresource: string, handler: SubresourceHandler): void {
    this.handlers.set(`*/${subresource}`, handler);
  }

  find(group: string, resource: string, subresource: string): SubresourceHandler | undefined {
    return this.handlers.get(`${group}/${resource}/${subresource}`) ?? this.handlers.get(`*/${subresource}`);
  }
}

const SUCCESS_CREATED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };

async function decodeBinding(request: SubresourceRequest): Promise<KubeObject> {
  const format = parseRequestContentType(request.req.headers['content-type'], OBJECT_BODY_FORMATS);
  const body = decodeRequestBody(await request.body(), format);
  if (!isPlainObject(body) || !isPlainObject(body.metadata)) throw badRequest('the body of the request must be a Binding object');
  if (body.kind !== undefined && body.kind !== 'Binding') {
    throw badRequest(`the kind in the data (${displayValue(body.kind)}) does not match the expected kind (Binding)`);
  }
  return body as KubeObject;
}

/** POST pods/{name}/binding and POST bindings: the scheduler's way to place a pod (BindingREST.Create). */
export async function bindPod(pods: GenericStore, ctx: RequestContext, podName: string, binding: KubeObject): Promise<void> {
  if (binding.metadata.namespace && binding.metadata.namespace !== ctx.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  try {
    await pods.storage.guaranteedUpdate(pods.key(ctx.namespace, podName), (current) => assignPodToNode(current, binding, ctx.now));
  } catch (err) {
    if (err instanceof KeyNotFoundError) throw notFound(pods.groupResource, podName);
    throw err;
  }
}

export function podBindingHandler(): SubresourceHandler {
  return {
    verbs: ['create'],
    async handle(request) {
      const binding = await decodeBinding(request);
      const name = binding.metadata.name;
      if (name !== undefined && name !== request.info.name) {
        throw badRequest(`binding name ${displayValue(name)} must match pod name ${request.info.name}`);
      }
      if (!isDryRun(request.query)) await bindPod(request.store, request.ctx, request.info.name, binding);
      request.res.status(201).json(SUCCESS_CREATED);
    },
  };
}

/** A binding is created with CreateOptions: dryRun=All binds nothing. */
function isDryRun(query: RawQuery): boolean {
  return parseDryRun(decodeCreateOptions(query).dryRun, 'CreateOptions');
}

/** The `bindings` resource: POST /api/v1/namespaces/{ns}/bindings with the pod's name in metadata.name. */
export async function handleBindingsResource(request: Omit<SubresourceRequest, 'store'>, pods: GenericStore): Promise<void> {
  const binding = await decodeBinding({ ...request, store: pods });
  const name = binding.metadata.name;
  if (!name) throw new StatusError(422, 'Invalid', 'Binding "" is invalid: metadata.name: Required value: name or generateName is required');
  if (!isDryRun(request.query)) await bindPod(pods, request.ctx, name, binding);
  request.res.status(201).json(SUCCESS_CREATED);
}

/** PUT namespaces/{name}/finalize: only spec.finalizers change (the namespace controller's last step). */
export function namespaceFinalizeHandler(): SubresourceHandler {
  return {
    verbs: ['update'],
    async handle(request) {
      const format = parseRequestContentType(request.req.headers['content-type'], OBJECT_BODY_FORMATS);
      const body = decodeRequestBody(await request.body(), format);
      if (!isPlainObject(body)) throw badRequest('the body of the request must be a Namespace object');
      const finalizers = isPlainObject(body.spec) && Array.isArray(body.spec.finalizers) ? body.spec.finalizers : [];
      const updated = await request.store.guaranteedUpdate(
        request.ctx, request.info.name, 'finalize', { dryRun: false, fieldValidation: 'Ignore' },
        (current) => {
          const next = deepCopy(current);
          next.spec = { ...(isPlainObject(current.spec) ? current.spec : {}), finalizers };
          return next;
        },
      );
      sendObject(request.req, request.res, request.store, updated, 200, 'object');
    },
  };
}

/**
 * GET pods/{name}/log: proxied to the kubelet of the pod's node, at the address and port the node
 * advertises (status.addresses InternalIP, status.daemonEndpoints.kubeletEndpoint.Port).
 * Only loopback addresses are dialled: simulated nodes live on this machine. Over plain HTTP, or over a
 * WebSocket when the client asks for one (the same options, checks and errors up to the kubelet's answer).
 */
export type { KubeletClientCertificate };

export function podLogHandler(nodes: () => GenericStore | undefined, kubeletClient?: KubeletClientCertificate): SubresourceHandler {
  return {
    verbs: ['get'],
    async handle(request) {
      const { info, query, store, res } = request;
      const options = decodePodLogOptions(query);
      validatePodLogOptions(options, info.name);
      const pod = await store.get(request.ctx.namespace, info.name);
      const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[]; nodeName?: string };
      const containers = (spec.containers ?? []).map((c) => c.name);
      const all = [...containers, ...(spec.initContainers ?? []).map((c) => c.name)];
      let container = options.container ?? '';
      if (!container) {
        if (containers.length !== 1) {
          throw badRequest(`a container name must be specified for pod ${info.name}, choose one of: [${containers.join(' ')}]`);
        }
        container = containers[0];
      }
      if (!all.includes(container)) throw badRequest(`container ${container} is not valid for pod ${info.name}`);
      if (!spec.nodeName) throw badRequest(`pod ${info.name} does not have a host assigned`);
      const { host: address, port } = await kubeletLocation(nodes(), spec.nodeName);
      // The kubelet gets the options re-encoded from what was decoded here (as LogLocation builds its URL).
      const forward = encodePodLogOptions({ ...options, container: undefined });
      const path = `/containerLogs/${encodeURIComponent(request.ctx.namespace)}/${encodeURIComponent(info.name)}/${encodeURIComponent(container)}?${forward}`;
      await proxyKubeletLog(request.req, res, address, port, path, options.follow, kubeletClient);
    },
  };
}

function proxyKubeletLog(req: Request, res: Response, host: string, port: number, path: string, follow: boolean, client?: KubeletClientCertificate): Promise<void> {
  return new Promise((resolve, reject) => {
    // Kubelets serve self-signed certificates; kube-apiserver without --kubelet-certificate-authority does not verify them either.
    // The kubelet authenticates the API server by this certificate and authorises it (nodes/proxy).
    const upstream = httpsRequest({ host, port, path, method: 'GET', rejectUnauthorized: false, cert: client?.certPem, key: client?.keyPem }, (upstreamRes) => {
      const code = upstreamRes.statusCode ?? 502;
      if (code >= 400) {
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (c: Buffer) => chunks.push(c));
        upstreamRes.on('end', () => reject(new StatusError(code === 404 ? 404 : 400, code === 404 ? 'NotFound' : 'BadRequest', Buffer.concat(chunks).toString('utf8').trim() || `kubelet answered ${code}`)));
        return;
      }
      // A WebSocket upgrade gets the stream as wsstream.Reader messages (server/log-websocket.ts); any other
      // request, even another kind of upgrade, gets it as the body of a plain response, as StreamObject does.
      if (req.upgrade && isWebSocketRequest(req)) {
        void streamOverWebSocket(req, req.upgrade, upstreamRes).then(resolve);
        return;
      }
      res.status(200);
      res.setHeader('Content-Type', 'text/plain');
      if (follow) res.flushHeaders();
      upstreamRes.pipe(res);
      upstreamRes.on('end', () => resolve());
      upstreamRes.on('error', () => resolve());
    });
    upstream.on('error', (err) => reject(new StatusError(500, 'InternalError', `Get "https://${host}:${port}${path.split('?')[0]}": ${err.message}`)));
    req.on('close', () => upstream.destroy());
    upstream.end();
  });
}
