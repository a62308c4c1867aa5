// A streaming watch reader for HTTP-level suites: one https request, the response's newline-
// delimited JSON events collected as they arrive, and awaitable "next event" / "end" points.
// supertest buffers whole responses, so watches need their own client.

import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TestServer } from './api-server.ts';

export interface WatchEvent {
  type: string;
  object: Record<string, unknown> & { metadata?: Record<string, unknown> };
}

export interface OpenWatch {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** Every event received so far, in order. */
  events: WatchEvent[];
  /** Resolves with the next event not yet taken by next(); rejects when the stream ends first or after `waitMs`. */
  next(waitMs?: number): Promise<WatchEvent>;
  /** Takes `count` events with next(). */
  take(count: number, waitMs?: number): Promise<WatchEvent[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** A guard against hanging tests, not a timing assertion. */
const DEFAULT_WAIT_MS = 10_000;

export function openWatch(server: TestServer, path: string, headers: Record<string, string> = {}): Promise<OpenWatch> {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'GET',
      ca: server.server.caCertPem,
      headers: { Authorization: `Bearer ${server.server.adminToken}`, ...headers },
    }, (res: IncomingMessage) => resolve(readEvents(req, res)));
    req.on('error', reject);
    req.end();
  });
}

function readEvents(req: ReturnType<typeof httpsRequest>, res: IncomingMessage): OpenWatch {
  const events: WatchEvent[] = [];
  let taken = 0;
  let finished = false;
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  let buffered = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) events.push(JSON.parse(line) as WatchEvent);
    }
    wake();
  });
  const ended = new Promise<void>((done) => {
    const end = (): void => {
      if (finished) return;
      finished = true;
      if (buffered.trim()) events.push(JSON.parse(buffered) as WatchEvent);
      wake();
      done();
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  });
  const next = async (waitMs = DEFAULT_WAIT_MS): Promise<WatchEvent> => {
    const deadline = Date.now() + waitMs;
    while (taken >= events.length) {
      if (finished) throw new Error(`watch ended after ${events.length} events`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no watch event within ${waitMs} ms (got ${events.length})`);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, left);
        waiters.push(() => { clearTimeout(timer); done(); });
      });
    }
    return events[taken++];
  };
  return {
    statusCode: res.statusCode ?? 0,
    headers: res.headers,
    events,
    next,
    async take(count, waitMs) {
      const out: WatchEvent[] = [];
      for (let i = 0; i < count; i++) out.push(await next(waitMs));
      return out;
    },
    ended,
    close() {
      req.destroy();
      res.destroy();
    },
  };
}
