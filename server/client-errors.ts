// Requests Node's HTTP parser refuses before any handler runs: a request line and headers over the
// 16 KiB limit (HPE_HEADER_OVERFLOW: most often a URL with a long label or field selector), or a
// malformed request. Node's default answer is a bare `431`/`400` with no body; clients of the API
// expect a metav1.Status, so the same codes go out with one, and the connection is closed as Node
// (and Go's net/http) would close it.

import type { Server } from 'node:https';
import type { Socket } from 'node:net';

/** Node's --max-http-header-size default: the request line, a URL included, counts against it. */
export const MAX_HEADER_BYTES = 16 * 1024;

interface ParserError extends Error {
  code?: string;
}

export function answerClientErrorsWithStatus(server: Server): void {
  server.on('clientError', (err: ParserError, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const code = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: tooLarge
        ? `Request Header Fields Too Large: the request line and headers exceed ${MAX_HEADER_BYTES} bytes`
        : 'Bad Request: malformed HTTP request',
      reason: tooLarge ? 'RequestHeaderFieldsTooLarge' : 'BadRequest',
      code,
    });
    const text = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}
