// Upgrade requests (WebSocket, SPDY) reach node's 'upgrade' event with a bare socket instead of a response. They go
// through the same express application as every other request (audit, authentication, authorization, flow control,
// routing) with a response bound to that socket: errors are ordinary HTTP replies with a Status body, and a handler
// that accepts the upgrade (server/pod-streaming.ts) takes the socket over with req.upgrade.hijack().
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Express, Request } from 'express';

export function upgradeThroughApp(app: Express): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    let hijacked = false;
    socket.on('error', () => socket.destroy());
    // A reply written through express (an error, or a 400 "Upgrade request required") ends the connection.
    res.on('finish', () => {
      if (!hijacked) socket.end();
    });
    (req as Request).upgrade = {
      socket,
      head,
      hijack: () => {
        hijacked = true;
        res.detachSocket(socket as Socket);
        // The audit event is written when the response closes: for a stream, when its connection does.
        res.statusCode = 101;
        socket.once('close', () => res.emit('close'));
      },
    };
    app(req as Request, res);
  };
}
