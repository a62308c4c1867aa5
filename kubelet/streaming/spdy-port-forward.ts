// Port forwarding over SPDY/3.1, as the kubelet serves it (pkg/kubelet/cri/streaming/portforward/httpstream.go) to
// kubectl: the client opens, for each forwarded connection, an `error` and a `data` stream carrying the headers
// `streamType`, `port` and `requestID`; the kubelet accepts every stream at once (an empty reply), and once both
// streams of a request are there it connects the data stream to the port, writing a failure on the error stream.
// kubectl 1.30 speaks it on the upgraded connection itself; 1.31 and later tunnel the same SPDY bytes through
// WebSocket binary messages (subprotocol SPDY/3.1+portforward.k8s.io). SPDY framing and header compression come
// from spdy-transport.
import type { Duplex } from 'node:stream';
import transport, { type SpdyStream } from 'spdy-transport';
import { connectionRefused, type PortForwardTarget } from './port-forward.ts';
import { SimulatedConnection } from './simulated-port.ts';

interface StreamPair {
  data?: SpdyStream;
  error?: SpdyStream;
}

/**
 * spdy-transport carries HTTP over SPDY and refuses a SYN_STREAM without `:method` and `:path`; Kubernetes streams
 * carry only their own headers (streamType, port, requestID). Header blocks it decodes get neutral values for the
 * two so such streams are accepted; nothing else of the parser changes.
 */
let headerDefaultsInstalled = false;
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

export function serveSpdyPortForward(socket: Duplex, target: PortForwardTarget): void {
  acceptStreamsWithoutHttpHeaders();
  const connection = transport.connection.create(socket, { protocol: 'spdy', isServer: true });
  // SPDY/3 framing: moby/spdystream (client-go's SPDY) rejects 3.1's session-level WINDOW_UPDATE on stream 0.
  connection.start(3);
  const pairs = new Map<string, StreamPair>();
  connection.on('error', () => socket.destroy());
  connection.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.respond(200, {});
    const headers = stream.headers;
    const requestId = headers.requestid ?? '';
    const port = Number(headers.port);
    const pair = pairs.get(requestId) ?? {};
    if (headers.streamtype === 'data') pair.data = stream;
    else if (headers.streamtype === 'error') pair.error = stream;
    else return void stream.abort();
    pairs.set(requestId, pair);
    if (!pair.data || !pair.error) return;
    pairs.delete(requestId);
    forward(pair.data, pair.error, port, target);
  });
  socket.on('close', () => connection.destroyStreams());
}

function forward(data: SpdyStream, error: SpdyStream, port: number, target: PortForwardTarget): void {
  // The client half-closes the error stream at once; drain it so the stream can finish.
  error.resume();
  const owner = target.ports.get(port);
  if (!owner || !Number.isInteger(port)) {
    error.end(connectionRefused(target, port));
    data.end();
    return;
  }
  const connection = new SimulatedConnection(owner, (bytes) => data.write(bytes), () => {
    data.end();
    error.end();
  });
  data.on('data', (chunk: Buffer) => connection.receive(chunk));
  data.on('end', () => connection.finish());
}
