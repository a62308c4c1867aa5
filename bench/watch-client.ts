// A streaming watch client: one long-lived GET ?watch=1, split into newline-delimited JSON
// events as they arrive. Used to observe the cluster (pod phases, delivery latency) from outside,
// exactly as client-go's reflector reads the stream.

import { Agent, request } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { ClientTarget } from './kubeconfig.ts';

export interface WatchEvent {
  type: string;
  object: Record<string, unknown>;
}

export interface WatchStream {
  /** Bytes received so far. */
  readonly bytes: number;
  readonly events: number;
  /** Settles when the server ends the stream or the connection breaks (with the reason, if any). */
  readonly ended: Promise<string | undefined>;
  /** Stops reading from the socket (TCP back-pressure builds up at the server). */
  pause(): void;
  resume(): void;
  close(): void;
}

export interface WatchStreamOptions {
  target: ClientTarget;
  agent: Agent;
  path: string;
  /** Called per event with the parsed event. */
  onEvent?(event: WatchEvent, receivedAtMs: number): void;
  /** Called per event with the raw line (cheap counting and probing without a full parse). */
  onLine?(line: string, receivedAtMs: number): void;
}

/** An agent for many concurrent watches: one socket per watch, no pooling limit. */
export function watchAgent(target: ClientTarget): Agent {
  return new Agent({ keepAlive: false, maxSockets: Infinity, ca: target.caPem, cert: target.certPem, key: target.keyPem });
}

/** Resolves once the response headers have arrived (the watch is registered at the server). */
export function openWatch(options: WatchStreamOptions): Promise<WatchStream> {
  const url = new URL(options.target.server);
  return new Promise((resolveOpen, rejectOpen) => {
    let bytes = 0;
    let events = 0;
    let response: IncomingMessage | undefined;
    let settleEnded: (reason: string | undefined) => void = () => undefined;
    const ended = new Promise<string | undefined>((resolve) => { settleEnded = resolve; });
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.target.token) headers.authorization = `Bearer ${options.target.token}`;
    const req: ClientRequest = request({
      host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: options.path, method: 'GET', agent: options.agent, headers,
    }, (res) => {
      response = res;
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => rejectOpen(new Error(`watch ${options.path}: HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`)));
        return;
      }
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const receivedAt = performance.timeOrigin + performance.now();
        bytes += Buffer.byteLength(chunk);
        pending += chunk;
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
          if (line.length === 0) continue;
          events++;
          options.onLine?.(line, receivedAt);
          if (options.onEvent) options.onEvent(JSON.parse(line) as WatchEvent, receivedAt);
        }
      });
      res.on('end', () => settleEnded(undefined));
      res.on('error', (error) => settleEnded(String(error)));
      res.on('close', () => settleEnded(res.complete ? undefined : 'connection closed before the stream ended'));
      resolveOpen({
        get bytes() { return bytes; },
        get events() { return events; },
        ended,
        pause: () => response?.socket.pause(),
        resume: () => response?.socket.resume(),
        close: () => req.destroy(),
      });
    });
    req.on('error', (error) => {
      settleEnded(String(error));
      rejectOpen(error);
    });
    req.end();
  });
}
