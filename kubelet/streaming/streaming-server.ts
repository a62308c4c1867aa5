// The kubelet's streaming endpoints, reached through the API server's pods/exec, pods/attach and pods/portforward:
//   /exec/{namespace}/{pod}/{container}?command=…&input=1&output=1&error=1&tty=1
//   /attach/{namespace}/{pod}/{container}?input=1&output=1&error=1&tty=1
//   /portForward/{namespace}/{pod}
// over WebSocket (RemoteCommand v4/v5, port-forward v4 channels) and over SPDY/3.1 (RemoteCommand v1–v4, port-forward;
// kubectl up to 1.29, or later ones told not to use WebSockets). Errors are text/plain with the kubelet's wording,
// which kubectl shows as `unable to upgrade connection: <message>`.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { ContainerInstance } from '../shell/container-instance.ts';
import type { ProcessIo } from '../shell/io.ts';
import { execInContainer } from '../shell/session.ts';
import type { CommandOutcome, RunCommand, StreamSelection } from './remote-command.ts';
import { isSpdyUpgrade, negotiateRemoteCommandProtocol, serveSpdyRemoteCommand } from './spdy-remote-command.ts';
import { REMOTE_COMMAND_PROTOCOLS, serveRemoteCommand } from './websocket-remote-command.ts';
import { PORT_FORWARD_PROTOCOLS, servePortForward, type PortForwardTarget } from './port-forward.ts';
import { serveSpdyPortForward } from './spdy-port-forward.ts';

/** kubectl 1.31+ tunnels SPDY through a WebSocket with this subprotocol (client-go portforward tunneling). */
const SPDY_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** What the container's main process does when attached to. */
export interface AttachTarget {
  /** Follows the process's output (lines as the simulated runtime writes them) until it exits. */
  followOutput(write: (text: string) => void, signal: AbortSignal): Promise<void>;
  /** A shell reading its stdin (stdin: true on a shell container): attach talks to it. */
  interactive: boolean;
  /** The attached interactive process ended with this code (an ephemeral container then terminates). */
  exited(exitCode: number): void;
}

export type RuntimeLookup<T> = T | { status: number; message: string };

/** What a node's runtime answers for a streaming request. */
export interface StreamingRuntime {
  container(namespace: string, pod: string, container: string): Promise<RuntimeLookup<{ instance: ContainerInstance; attach: AttachTarget }>>;
  portForward(namespace: string, pod: string): Promise<RuntimeLookup<PortForwardTarget>>;
}

const wss = new WebSocketServer({
  noServer: true,
  // One frame is at most 32 KiB of data plus the channel byte from client-go; 16 MiB leaves room for other clients.
  maxPayload: 16 * 1024 * 1024,
  perMessageDeflate: false,
  handleProtocols: (protocols, request) => {
    const supported: readonly string[] = (request as IncomingMessage & { kubeletSupported?: readonly string[] }).kubeletSupported ?? [];
    for (const protocol of protocols) if (supported.includes(protocol)) return protocol;
    return false;
  },
});

function isTrue(value: string | null): boolean {
  return value === '1' || value === 'true';
}

function refuse(socket: Duplex, status: number, message: string, headers: Record<string, string[]> = {}): void {
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = Buffer.from(message);
  const extra = Object.entries(headers).flatMap(([name, values]) => values.map((value) => `${name}: ${value}\r\n`)).join('');
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n${extra}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${message}`);
}

function isWebSocket(request: IncomingMessage): boolean {
  return (request.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** Handles one upgrade request on a node's endpoint; `runtime` is undefined when the node is stopped. */
export async function handleStreamingUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, runtime: StreamingRuntime | undefined): Promise<void> {
  socket.on('error', () => socket.destroy());
  const url = new URL(request.url ?? '/', 'https://kubelet');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (!runtime) return refuse(socket, 503, 'node stopped');
  if (parts[0] === 'exec' || parts[0] === 'attach') {
    if (parts.length !== 4) return refuse(socket, 404, '404 page not found\n');
    const [kind, namespace, pod, container] = parts as ['exec' | 'attach', string, string, string];
    const streams: StreamSelection = {
      stdin: isTrue(url.searchParams.get('input')), stdout: isTrue(url.searchParams.get('output')),
      stderr: isTrue(url.searchParams.get('error')), tty: isTrue(url.searchParams.get('tty')),
    };
    const argv = url.searchParams.getAll('command');
    if (kind === 'exec' && argv.length === 0) return refuse(socket, 400, 'you must specify at least 1 command');
    if (!streams.stdin && !streams.stdout && !streams.stderr) return refuse(socket, 400, 'you must specify at least 1 of stdin, stdout, stderr');
    const found = await runtime.container(namespace, pod, container);
    if ('status' in found) return refuse(socket, found.status, found.message);
    // One process, whichever framing carries it. The simulated shell draws no screen, so a resize changes nothing.
    const run: RunCommand = (io, signal, onResize) => {
      onResize(() => undefined);
      return kind === 'exec'
        ? runExec(found.instance, argv, io, streams.tty, signal)
        : runAttach(found.instance, found.attach, io, streams, signal);
    };
    if (isWebSocket(request)) {
      (request as IncomingMessage & { kubeletSupported?: readonly string[] }).kubeletSupported = REMOTE_COMMAND_PROTOCOLS;
      wss.handleUpgrade(request, socket, head, (ws: WebSocket) => void serveRemoteCommand(ws, streams, run));
      return;
    }
    const negotiated = negotiateRemoteCommandProtocol(request);
    if ('status' in negotiated) return refuse(socket, negotiated.status, `${negotiated.message}\n`, negotiated.headers);
    if (!isSpdyUpgrade(request)) return refuse(socket, 400, 'unable to upgrade: missing upgrade headers in request\n');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${negotiated.protocol}\r\n\r\n`);
    if (head.length > 0) socket.unshift(head);
    serveSpdyRemoteCommand(socket, negotiated.protocol, streams, run);
    return;
  }
  if (parts[0] === 'portForward') {
    if (parts.length !== 3) return refuse(socket, 404, '404 page not found\n');
    const found = await runtime.portForward(parts[1], parts[2]);
    if ('status' in found) return refuse(socket, found.status, found.message);
    if ((request.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1') {
      // The ports come in each stream's headers; the upgraded connection is SPDY from here on.
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n');
      if (head.length > 0) socket.unshift(head);
      serveSpdyPortForward(socket, found);
      return;
    }
    if (!isWebSocket(request)) return refuse(socket, 400, 'unable to upgrade: missing upgrade headers in request');
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (offered.includes(SPDY_TUNNEL_PROTOCOL)) {
      (request as IncomingMessage & { kubeletSupported?: readonly string[] }).kubeletSupported = [SPDY_TUNNEL_PROTOCOL];
      wss.handleUpgrade(request, socket, head, (ws: WebSocket) => serveSpdyPortForward(createWebSocketStream(ws), found));
      return;
    }
    const ports = url.searchParams.getAll('port').map(Number);
    if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
      return refuse(socket, 400, `invalid port in request: ${url.searchParams.getAll('port').join(',') || '(none)'}`);
    }
    (request as IncomingMessage & { kubeletSupported?: readonly string[] }).kubeletSupported = PORT_FORWARD_PROTOCOLS;
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => servePortForward(ws, ports, found));
    return;
  }
  refuse(socket, 404, '404 page not found\n');
}

async function runExec(instance: ContainerInstance, argv: string[], io: ProcessIo, tty: boolean, signal: AbortSignal): Promise<CommandOutcome> {
  const exitCode = await execInContainer(instance, argv, { io, tty, signal });
  return { exitCode, argv };
}

async function runAttach(instance: ContainerInstance, attach: AttachTarget, io: ProcessIo, streams: StreamSelection, signal: AbortSignal): Promise<CommandOutcome> {
  if (attach.interactive && streams.stdin) {
    const argv = instance.processes[0].args;
    const exitCode = await execInContainer(instance, argv.length > 0 ? argv : ['sh'], { io, tty: streams.tty, signal });
    if (!signal.aborted) attach.exited(exitCode);
    return { exitCode, argv };
  }
  await attach.followOutput((text) => io.stdout.write(streams.tty ? text.replace(/\n/g, '\r\n') : text), signal);
  return { exitCode: 0, argv: instance.processes[0].args };
}
