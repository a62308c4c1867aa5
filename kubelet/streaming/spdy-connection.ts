// The server side of an upgraded SPDY/3.1 connection as the kubelet's streaming server runs it (through
// k8s.io/apimachinery's httpstream/spdy on moby/spdystream), with framing and header compression from spdy-transport.
// Two things differ between spdy-transport (an HTTP-over-SPDY library) and what Kubernetes clients speak:
//  - Kubernetes streams carry only their own headers (streamType, port, requestID), never HTTP's `:method`/`:path`,
//    which spdy-transport's parser insists on;
//  - spdystream does no flow control: it never sends WINDOW_UPDATE and never enforces a receive window, so a sender
//    that waits for window updates (spdy-transport does, after the 64 KiB initial window) stalls for good. The real
//    kubelet's sender is spdystream too, limited only by TCP; the send windows here are made unbounded to match.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import transport, { type SpdyConnection, type SpdyStream } from 'spdy-transport';

/** Largest SPDY window (2^31 - 1). */
const MAX_WINDOW = 2147483647;

let headerDefaultsInstalled = false;

/**
 * Header blocks spdy-transport decodes get neutral `:method`/`:path` values so streams without them are accepted;
 * nothing else of the parser changes.
 */
function acceptStreamsWithoutHttpHeaders(): void {
  if (headerDefaultsInstalled) return;
  headerDefaultsInstalled = true;
  const prototype = Object.getPrototypeOf(transport.protocol.spdy.parser.create({ isServer: true })) as {
    parseKVs(this: unknown, buffer: unknown, callback: (error: Error | null, headers?: Record<string, string>) => void): void;
  };
  const parseKVs = prototype.parseKVs;
  prototype.parseKVs = function parseKVsWithDefaults(buffer, callback) {
    parseKVs.call(this, buffer, (error, headers) => {
      if (!error && headers) {
        headers[':method'] ??= 'POST';
        headers[':path'] ??= '/';
      }
      callback(error, headers);
    });
  };
}

/** A send window that never runs dry: topped up to the maximum whenever it falls to half. */
function unboundedSendWindow(stream: SpdyStream): void {
  const send = stream._spdyState?.window.send;
  if (!send) return;
  send.updateMax(MAX_WINDOW);
  send.on('drain', () => send.update(send.getDelta()));
}

/**
 * Starts the SPDY/3 framing on `socket` (the connection after `101 Switching Protocols`, or the byte stream a WebSocket
 * tunnel carries). Every stream the client opens is accepted at once (a SYN_REPLY, as spdystream replies) and
 * handed to `onStream` once that reply is written.
 */
export function acceptSpdyConnection(socket: Duplex, onStream: (stream: SpdyStream) => void): SpdyConnection {
  acceptStreamsWithoutHttpHeaders();
  // Small frames, each awaited by the client (a stream's reply before the next stream): no Nagle delay.
  (socket as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(true);
  const connection = transport.connection.create(socket, { protocol: 'spdy', isServer: true });
  // SPDY/3 framing: spdystream rejects 3.1's session-level WINDOW_UPDATE on stream 0.
  connection.start(3);
  connection.on('error', () => socket.destroy());
  connection.on('stream', (stream) => {
    stream.on('error', () => undefined);
    unboundedSendWindow(stream);
    // Handed on once the reply is out (httpstream's replySent): whatever follows, even the connection's GOAWAY,
    // comes after it, so the client never waits on a stream the server has already given up.
    stream.respond(200, {}, (error) => {
      if (!error) onStream(stream);
    });
  });
  socket.on('close', () => connection.destroyStreams());
  return connection;
}
