// pods/exec, pods/attach and pods/portforward: upgrade requests (WebSocket, or SPDY from older clients) that the API
// server checks and then splices, byte for byte, onto the same upgrade request to the pod's kubelet, as
// kube-apiserver's UpgradeAwareHandler does. The kubelet's answer (101 Switching Protocols, or its error) reaches the
// client unchanged; after that the API server only copies bytes both ways, so a client that stops reading or goes
// away ends both connections at once.
//
// Authorization is upstream's: the request's own verb (get for a WebSocket GET, create for POST), and for a GET also
// `create` on the subresource (AuthorizePodWebsocketUpgradeCreatePermission, on by default since 1.31), so read-only
// roles cannot exec through a WebSocket. Admission runs before the connection, as ConnectResource does: the
// plugins that handle CONNECT (admission webhooks) see the PodExecOptions / PodAttachOptions / PodPortForwardOptions.
import type { Request } from 'express';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { badRequest } from '../api/errors.ts';
import type { KubeObject } from '../api/object.ts';
import type { GenericStore } from '../api/registry/store.ts';
import { resourceAttributes, type Authorizer } from '../auth/authorizer.ts';
import { forbiddenError } from '../auth/forbidden.ts';
import { kubeletLocation, type KubeletClientCertificate } from './kubelet-location.ts';
import { decodePodAttachOptions, decodePodExecOptions, decodePodPortForwardOptions, type RawQuery } from '../api/options/index.ts';
import type { SubresourceHandler } from './subresources.ts';

export type StreamKind = 'exec' | 'attach' | 'portforward';

/** What an upgrade request carries besides the express request: the raw socket and the bytes read past the headers. */
export interface UpgradeRequest {
  socket: Duplex;
  head: Buffer;
  /** Detaches the socket from express's response: from here on the handler owns it. */
  hijack(): void;
}

declare module 'express-serve-static-core' {
  interface Request {
    upgrade?: UpgradeRequest;
  }
}

interface ContainerSpecLike {
  name: string;
  ports?: { containerPort: number }[];
}

interface PodSpecLike {
  nodeName?: string;
  containers?: ContainerSpecLike[];
  initContainers?: ContainerSpecLike[];
  ephemeralContainers?: ContainerSpecLike[];
}

/**
 * The kubelet query the connect options become (as kube-apiserver's streamLocation / PortForwardLocation build
 * the kubelet URL), from the options object admission saw (and a mutating webhook may have changed).
 */
export function streamOptions(kind: StreamKind, options: Record<string, unknown>): { container: string; kubeletQuery: URLSearchParams } {
  const kubeletQuery = new URLSearchParams();
  if (kind === 'portforward') {
    const ports = Array.isArray(options.ports) ? options.ports : [];
    for (const port of ports) if (typeof port === 'number') kubeletQuery.append('port', String(port));
    return { container: '', kubeletQuery };
  }
  const command = kind === 'exec' && Array.isArray(options.command) ? options.command : [];
  for (const argument of command) if (typeof argument === 'string') kubeletQuery.append('command', argument);
  if (options.stdin === true) kubeletQuery.set('input', '1');
  if (options.stdout === true) kubeletQuery.set('output', '1');
  if (options.stderr === true) kubeletQuery.set('error', '1');
  if (options.tty === true) kubeletQuery.set('tty', '1');
  return { container: typeof options.container === 'string' ? options.container : '', kubeletQuery };
}

const CONNECT_OPTIONS_KIND: Record<StreamKind, string> = { exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions' };

/** The connect options as the v1 object admission webhooks receive (zero values omitted, as their omitempty tags do). */
export function connectOptionsObject(kind: StreamKind, query: RawQuery): Record<string, unknown> {
  const object: Record<string, unknown> = { kind: CONNECT_OPTIONS_KIND[kind], apiVersion: 'v1' };
  if (kind === 'portforward') {
    const { ports } = decodePodPortForwardOptions(query);
    if (ports.length > 0) object.ports = ports;
    return object;
  }
  const options = kind === 'exec' ? decodePodExecOptions(query) : decodePodAttachOptions(query);
  for (const flag of ['stdin', 'stdout', 'stderr', 'tty'] as const) if (options[flag]) object[flag] = true;
  if (options.container) object.container = options.container;
  if (kind === 'exec') object.command = decodePodExecOptions(query).command;
  return object;
}

/** The container a request means, as pkg/registry/core/pod's streamLocation picks and checks it. */
function chooseContainer(podName: string, spec: PodSpecLike, requested: string): string {
  const names = (list: ContainerSpecLike[] | undefined): string[] => (list ?? []).map((c) => c.name);
  if (!requested) {
    const containers = names(spec.containers);
    if (containers.length === 1) return containers[0];
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${podName}`);
    let message = `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`;
    const inits = names(spec.initContainers);
    if (inits.length > 0) message += ` or one of the init containers: [${inits.join(' ')}]`;
    throw badRequest(message);
  }
  const all = [...names(spec.containers), ...names(spec.initContainers), ...names(spec.ephemeralContainers)];
  if (!all.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${podName}`);
  return requested;
}

const HOP_BY_HOP = new Set(['host', 'authorization', 'cookie', 'content-length', 'transfer-encoding', 'proxy-authorization']);

/** `kubeletClient`: the API server's client certificate, by which the kubelet authenticates and authorises it (nodes/proxy). */
export function podStreamHandler(
  kind: StreamKind, nodes: () => GenericStore | undefined, authorizer: () => Authorizer, kubeletClient?: KubeletClientCertificate,
): SubresourceHandler {
  return {
    verbs: ['get', 'create'],
    async handle({ req, info, ctx, store, query }) {
      if (info.verb === 'get') {
        const attributes = resourceAttributes(ctx.user, {
          verb: 'create', namespace: ctx.namespace, apiGroup: '', apiVersion: info.apiVersion, resource: 'pods', subresource: info.subresource, name: info.name,
        });
        const decision = authorizer().authorize(attributes);
        if (decision.decision !== 'allow') throw forbiddenError(attributes, decision.reason);
      }
      // ConnectResource admits before connecting: webhooks see CONNECT with the options as the object.
      // A mutating webhook's patch of the options is honoured, as the opts ConnectResource passes on.
      const connectOptions = connectOptionsObject(kind, query);
      await store.admission?.connect({
        operation: 'CONNECT', group: '', version: 'v1', kind: CONNECT_OPTIONS_KIND[kind], resource: 'pods', subresource: info.subresource,
        namespace: ctx.namespace, name: info.name, object: connectOptions as unknown as KubeObject,
        user: ctx.user, dryRun: false, warnings: [], auditAnnotations: ctx.auditAnnotations,
      });
      const pod = await store.get(ctx.namespace, info.name);
      const spec = (pod.spec ?? {}) as PodSpecLike;
      const options = streamOptions(kind, connectOptions);
      const container = kind === 'portforward' ? '' : chooseContainer(info.name, spec, options.container);
      if (!spec.nodeName) throw badRequest(`pod ${info.name} does not have a host assigned`);
      const upgrade = req.upgrade;
      if (!upgrade) throw badRequest('Upgrade request required');
      const location = await kubeletLocation(nodes(), spec.nodeName);
      const segments = kind === 'portforward'
        ? ['portForward', ctx.namespace, info.name]
        : [kind, ctx.namespace, info.name, container];
      const path = `/${segments.map(encodeURIComponent).join('/')}?${options.kubeletQuery}`;
      await splice(req, upgrade, location.host, location.port, path, kubeletClient);
    },
  };
}

/** Sends the upgrade request on to the kubelet, then copies bytes both ways until either side ends. */
function splice(req: Request, upgrade: UpgradeRequest, host: string, port: number, path: string, client?: KubeletClientCertificate): Promise<void> {
  return new Promise((resolve) => {
    // Kubelets serve self-signed certificates; kube-apiserver without --kubelet-certificate-authority does not verify them either.
    // The kubelet authenticates the API server by its client certificate, as for logs (server/subresources.ts).
    const kubelet: TLSSocket = tlsConnect({ host, port, rejectUnauthorized: false, servername: undefined, cert: client?.certPem, key: client?.keyPem });
    const caller = upgrade.socket;
    upgrade.hijack();
    const lines = [`${req.method} ${path} HTTP/1.1`, `Host: ${host}:${port}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i];
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || lower.startsWith('impersonate-')) continue;
      lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    let finished = false;
    let connected = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      // One side closed: the other still gets what was already piped to it before it is closed. Destroying it at
      // once dropped, under load, the last frames a kubelet sends (a command's output, its exit status).
      kubelet.end();
      caller.end();
      setTimeout(abort, 5000).unref();
      resolve();
    };
    const abort = (): void => {
      finished = true;
      kubelet.destroy();
      caller.destroy();
      resolve();
    };
    kubelet.once('secureConnect', () => {
      connected = true;
      // Streams carry small interactive frames (a SPDY client waits for each stream's reply before opening the next):
      // Nagle's algorithm would hold each one back for a delayed ACK.
      kubelet.setNoDelay(true);
      (caller as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(true);
      kubelet.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upgrade.head.length > 0) kubelet.write(upgrade.head);
      kubelet.pipe(caller);
      caller.pipe(kubelet);
    });
    kubelet.on('error', (error) => {
      if (!connected && !finished) {
        finished = true;
        const body = JSON.stringify({
          kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 500, reason: 'InternalError',
          message: `error dialing backend: ${error.message}`,
        });
        caller.end(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        resolve();
        return;
      }
      abort();
    });
    kubelet.on('close', finish);
    caller.on('close', finish);
    caller.on('error', abort);
  });
}
