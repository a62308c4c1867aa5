// Port forwarding over SPDY/3.1, as the kubelet serves it (pkg/kubelet/cri/streaming/portforward/httpstream.go) to
// kubectl: the client opens, for each forwarded connection, an `error` and a `data` stream carrying the headers
// `streamType`, `port` and `requestID`; the kubelet accepts every stream at once (an empty reply), and once both
// streams of a request are there it connects the data stream to the port, writing a failure on the error stream.
// kubectl 1.30 speaks it on the upgraded connection itself; 1.31 and later tunnel the same SPDY bytes through
// WebSocket binary messages (subprotocol SPDY/3.1+portforward.k8s.io). SPDY framing and header compression come
// from spdy-transport (spdy-connection.ts).
import type { Duplex } from 'node:stream';
import type { SpdyStream } from 'spdy-transport';
import { acceptSpdyConnection } from './spdy-connection.ts';
import { connectionRefused, type PortForwardTarget } from './port-forward.ts';
import { SimulatedConnection } from './simulated-port.ts';

interface StreamPair {
  data?: SpdyStream;
  error?: SpdyStream;
}

export function serveSpdyPortForward(socket: Duplex, target: PortForwardTarget): void {
  const pairs = new Map<string, StreamPair>();
  acceptSpdyConnection(socket, (stream) => {
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
