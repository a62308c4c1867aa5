// A streaming GET (pods/log) answered over a WebSocket when the client asks for one, as kube-apiserver's StreamObject
// hands the stream to k8s.io/apiserver's wsstream.Reader:
//   - subprotocols: none or `binary.k8s.io` (each message a binary frame with the stream's bytes) and
//     `base64.binary.k8s.io` (each message a text frame with the base64 of the bytes); the first of the client's
//     protocols that is supported wins, and a request offering only unsupported ones gets 403 Forbidden (the
//     handshake refusal of golang.org/x/net/websocket);
//   - an empty message first (the Reader's "ping"), then one message per read of at most 2,048 bytes;
//   - whatever the client sends is ignored; when the stream ends the server closes with 1000, and when the client
//     closes (or goes away) the stream is abandoned, which ends the request to the kubelet.
// Errors found before the stream opens (options, pod, container, the kubelet's refusal) are ordinary HTTP replies
// with a Status body, since the upgrade has not happened yet.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { UpgradeRequest } from './pod-streaming.ts';

export const BINARY_PROTOCOL = 'binary.k8s.io';
export const BASE64_BINARY_PROTOCOL = 'base64.binary.k8s.io';

/** NewDefaultReaderProtocols: whether each subprotocol carries raw bytes (binary frames) or base64 text. */
const READER_PROTOCOLS: ReadonlyMap<string, { binary: boolean }> = new Map([
  ['', { binary: true }],
  [BINARY_PROTOCOL, { binary: true }],
  [BASE64_BINARY_PROTOCOL, { binary: false }],
]);

/** wsstream's messageCopy reads into a 2 KiB buffer: one message per read. */
const MESSAGE_BYTES = 2048;

/** golang.org/x/net/websocket's DefaultMaxPayloadBytes, the most a client's (ignored) message may carry. */
const MAX_CLIENT_PAYLOAD = 32 << 20;

const CONNECTION_UPGRADE = /(^|.*,\s*)upgrade($|\s*,)/;

/** wsstream.IsWebSocketRequest: `Connection: upgrade` (among others) and `Upgrade: websocket`. */
export function isWebSocketRequest(req: IncomingMessage): boolean {
  const connection = String(req.headers.connection ?? '').toLowerCase();
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  return CONNECTION_UPGRADE.test(connection) && upgrade === 'websocket';
}

/**
 * wsstream's handshake: the client's protocols in its order, the first supported one chosen; no protocol means ''.
 * Undefined when none is supported.
 */
export function negotiateReaderProtocol(header: string | string[] | undefined): string | undefined {
  const offered = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (offered.length === 0) return '';
  return offered.find((protocol) => READER_PROTOCOLS.has(protocol));
}

const server = new WebSocketServer({
  noServer: true,
  clientTracking: false,
  perMessageDeflate: false,
  maxPayload: MAX_CLIENT_PAYLOAD,
  handleProtocols: (protocols) => {
    const chosen = negotiateReaderProtocol([...protocols].join(','));
    return chosen ? chosen : false;
  },
});

/**
 * Upgrades the request to a WebSocket and copies `source` into it until the source ends (then closes with 1000) or
 * the client goes away (then destroys the source). Resolves when both are done.
 */
export function streamOverWebSocket(req: IncomingMessage, upgrade: UpgradeRequest, source: Readable): Promise<void> {
  const protocol = negotiateReaderProtocol(req.headers['sec-websocket-protocol']);
  upgrade.hijack();
  if (protocol === undefined) {
    source.destroy();
    upgrade.socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    return Promise.resolve();
  }
  const binary = READER_PROTOCOLS.get(protocol)?.binary ?? true;
  return new Promise((resolve) => {
    // ws answers a malformed handshake (no key, wrong version) itself with 400 and never calls back.
    upgrade.socket.once('close', () => {
      source.destroy();
      resolve();
    });
    server.handleUpgrade(req, upgrade.socket, upgrade.head, (ws) => copyToWebSocket(ws, source, binary));
  });
}

function copyToWebSocket(ws: WebSocket, source: Readable, binary: boolean): void {
  const send = (bytes: Buffer, done?: () => void): void => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(binary ? bytes : bytes.toString('base64'), { binary }, done);
  };
  // The Reader's ping: an empty message of the negotiated kind before any data.
  send(Buffer.alloc(0));
  source.on('data', (chunk: Buffer) => {
    // Go's synchronous Send: the next read waits until this one is written out.
    source.pause();
    for (let offset = 0; offset < chunk.length; offset += MESSAGE_BYTES) {
      const last = offset + MESSAGE_BYTES >= chunk.length;
      send(chunk.subarray(offset, offset + MESSAGE_BYTES), last ? () => source.resume() : undefined);
    }
  });
  const closeNormally = (): void => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  };
  source.once('end', closeNormally);
  source.once('error', closeNormally);
  source.once('close', closeNormally);
  ws.on('error', () => ws.terminate());
  ws.once('close', () => source.destroy());
}
