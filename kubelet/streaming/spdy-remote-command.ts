// The RemoteCommand protocol over SPDY/3.1, server side, as the kubelet's streaming server speaks it to kubectl
// 1.27–1.29 and to later kubectl with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false (pkg/kubelet/cri/streaming/remotecommand
// httpstream.go, k8s.io/apimachinery/pkg/util/httpstream):
//  - before the upgrade, the version is negotiated through `X-Stream-Protocol-Version` (the client lists its
//    versions, the first one the server supports wins and is echoed in the 101 response);
//  - the client then opens one stream per channel, named by its `streamType` header (error, stdin, stdout, stderr,
//    and resize for a TTY from v3 on); the command starts once all the streams the request asked for are there
//    (30 s at most, DefaultStreamCreationTimeout);
//  - stdin ends when the client half-closes its stream; the outcome goes on the error stream (a JSON Status from v4
//    on, a failure's message before), then every stream is closed with the connection.
// The process itself is the one the WebSocket framing runs (remote-command.ts).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SpdyStream } from 'spdy-transport';
import { QueuedInput, type ProcessIo, type ProcessOutput } from '../shell/io.ts';
import { acceptSpdyConnection } from './spdy-connection.ts';
import {
  decodeTerminalSize, errorStreamPayload, runCommand, STDIN_HIGH_WATER, type RunCommand, type StreamSelection, type TerminalSize,
} from './remote-command.ts';

/** What the kubelet accepts over SPDY, in its order of preference (v5 is WebSocket only). */
export const SPDY_REMOTE_COMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

/** DefaultStreamCreationTimeout: how long the client has to open every stream it asked for. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** Terminal resizing came with v3. */
function supportsResize(protocol: string): boolean {
  return protocol === 'v4.channel.k8s.io' || protocol === 'v3.channel.k8s.io';
}

/** The stream types a version's handler knows; any other is "unexpected stream type" (logged, left alone). */
function knownStreamTypes(protocol: string): ReadonlySet<string> {
  return new Set<StreamType>(supportsResize(protocol) ? ['error', 'stdin', 'stdout', 'stderr', 'resize'] : ['error', 'stdin', 'stdout', 'stderr']);
}

export type Negotiation = { protocol: string } | { status: number; message: string; headers?: Record<string, string[]> };

/** httpstream.Handshake: the first version the client lists (in one header or several, comma-separated) that the server supports. */
export function negotiateRemoteCommandProtocol(request: IncomingMessage): Negotiation {
  const raw = request.headersDistinct['x-stream-protocol-version'] ?? [];
  const offered = raw.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value.length > 0);
  if (offered.length === 0) return { status: 400, message: 'unable to upgrade: X-Stream-Protocol-Version is required' };
  const protocol = offered.find((candidate) => (SPDY_REMOTE_COMMAND_PROTOCOLS as readonly string[]).includes(candidate));
  if (protocol) return { protocol };
  return {
    status: 403,
    message: `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${SPDY_REMOTE_COMMAND_PROTOCOLS.join(' ')}]`,
    headers: { 'X-Accepted-Stream-Protocol-Versions': [...SPDY_REMOTE_COMMAND_PROTOCOLS] },
  };
}

/** Whether the request asks for the SPDY/3.1 upgrade (spdy.responseUpgrader's check). */
export function isSpdyUpgrade(request: IncomingMessage): boolean {
  const connection = (request.headers.connection ?? '').toLowerCase();
  const upgrade = (request.headers.upgrade ?? '').toLowerCase();
  return connection.includes('upgrade') && upgrade.includes('spdy/3.1');
}

/** The streams the server waits for before it starts the command (createHTTPStreamStreams' expectedStreams). */
export function expectedStreamCount(protocol: string, streams: StreamSelection): number {
  return 1 + Number(streams.stdin) + Number(streams.stdout) + Number(streams.stderr) + Number(streams.tty && supportsResize(protocol));
}

/**
 * Splits a byte stream of JSON resize messages (client-go writes them with json.Encoder, one object after another)
 * into whole messages.
 */
export class ResizeMessageSplitter {
  private pending = '';

  push(chunk: string): string[] {
    this.pending += chunk;
    const messages: string[] = [];
    let depth = 0;
    let inString = false;
    let escaped = false;
    let start = -1;
    let consumed = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const c = this.pending[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{') {
        if (depth === 0) start = i;
        depth++;
      } else if (c === '}' && depth > 0) {
        depth--;
        if (depth === 0) {
          messages.push(this.pending.slice(start, i + 1));
          consumed = i + 1;
        }
      } else if (depth === 0 && c.trim() !== '') {
        // Not the start of an object: skipped, as a decoder that fails would stop reading it.
        consumed = i + 1;
      }
    }
    this.pending = this.pending.slice(consumed);
    // A message that never ends is not kept growing.
    if (this.pending.length > 64 * 1024) this.pending = '';
    return messages;
  }
}

/**
 * Serves one RemoteCommand session on an upgraded connection (the 101 response already written): waits for the
 * client's streams, runs the process, writes its outcome and closes. The client going away aborts the process.
 */
export function serveSpdyRemoteCommand(
  socket: Duplex, protocol: string, requested: StreamSelection, run: RunCommand, streamCreationTimeoutMs = STREAM_CREATION_TIMEOUT_MS,
): void {
  // NewOptions: with a TTY, stderr is the terminal; a stderr stream is neither expected nor written to.
  const streams: StreamSelection = { ...requested, stderr: requested.stderr && !requested.tty };
  const expected = expectedStreamCount(protocol, streams);
  const known = knownStreamTypes(protocol);
  const opened: Partial<Record<StreamType, SpdyStream>> = {};
  const all: SpdyStream[] = [];
  const aborted = new AbortController();
  const stdin = new QueuedInput();
  if (!streams.stdin) stdin.end();
  const resize = new ResizeMessageSplitter();
  let resizeListener: ((size: TerminalSize) => void) | undefined;
  let received = 0;
  let started = false;

  const close = (): void => {
    for (const stream of all) stream.destroy();
    socket.destroy();
  };
  const timeout = setTimeout(() => {
    // "timed out waiting for client to create streams": the kubelet gives up on the connection.
    if (!started) close();
  }, streamCreationTimeoutMs);
  timeout.unref();
  socket.on('close', () => {
    clearTimeout(timeout);
    aborted.abort();
    stdin.end();
  });

  const connection = acceptSpdyConnection(socket, (stream) => {
    all.push(stream);
    const type = stream.headers.streamtype ?? '';
    if (!known.has(type)) {
      // An unexpected stream type is accepted and left alone (the kubelet only logs it); it does not count.
      stream.resume();
      return;
    }
    opened[type as StreamType] = stream;
    if (type === 'stdin') {
      stream.on('data', (chunk: Buffer) => {
        if (!streams.stdin) return;
        stdin.push(chunk);
        if (stdin.queuedBytes > STDIN_HIGH_WATER) socket.pause();
      });
      // The client half-closes stdin at its end of input (`kubectl cp` to a pod relies on it).
      stream.on('end', () => stdin.end());
    } else if (type === 'resize') {
      stream.on('data', (chunk: Buffer) => {
        for (const message of resize.push(chunk.toString('utf8'))) {
          const size = decodeTerminalSize(message);
          if (size) resizeListener?.(size);
        }
      });
    } else {
      // The client never writes on these; reading lets their half-close be seen.
      stream.resume();
    }
    received++;
    if (received === expected && !started) {
      started = true;
      clearTimeout(timeout);
      void start();
    }
  });

  const output = (stream: SpdyStream | undefined): ProcessOutput => ({
    write: (data) => {
      if (!stream || stream.destroyed || stream.writableEnded) return;
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      if (bytes.length > 0) stream.write(bytes);
    },
  });

  async function start(): Promise<void> {
    // v1 (channel.k8s.io) closes the server's side of stdin at once (a 1.0 kubelet's behaviour the protocol keeps).
    if (protocol === 'channel.k8s.io') opened.stdin?.end();
    const stdout = output(streams.stdout ? opened.stdout : undefined);
    const io: ProcessIo = {
      stdin: {
        read: async () => {
          const chunk = await stdin.read();
          if (stdin.queuedBytes < STDIN_HIGH_WATER / 2) socket.resume();
          return chunk;
        },
      },
      stdout,
      stderr: streams.tty ? stdout : output(streams.stderr ? opened.stderr : undefined),
    };
    const outcome = await runCommand(run, io, aborted.signal, (listener) => {
      resizeListener = listener;
    });
    if (aborted.signal.aborted) return close();
    const payload = errorStreamPayload(protocol, outcome);
    const error = opened.error;
    if (error && payload !== undefined) error.write(payload);
    // What the process wrote goes out, each stream ends (FIN), then the connection goes away (GOAWAY), as the
    // kubelet's conn.Close() resets every stream once the status is written.
    // GOAWAY waits for the streams' last DATA frames: spdystream stops reading streams once it has a GOAWAY.
    const outputs = [opened.stdout, opened.stderr, error].filter((stream): stream is SpdyStream => stream !== undefined);
    await Promise.all(outputs.map((stream) => new Promise<void>((resolve) => {
      if (stream.destroyed || stream.writableFinished) return resolve();
      stream.once('close', () => resolve());
      stream.end(() => resolve());
    })));
    for (const stream of all) if (!outputs.includes(stream)) stream.abort();
    // spdy-transport closes the socket once GOAWAY is out and the streams are done; a peer that keeps its halves
    // open past that is cut off.
    connection.end(() => socket.end());
    setTimeout(() => socket.destroy(), 10_000).unref();
  }
}
