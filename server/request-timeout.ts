// Request deadlines as kube-apiserver's WithRequestDeadline and WithTimeoutForNonLongRunningRequests
// filters set them: every request that is not long-running (watch, proxy, exec, attach, log,
// portforward) must be answered within --request-timeout (default 60 s), or within its own
// `?timeout=` when that is shorter and positive. The clock starts before flow control, so waiting
// for a seat and reading the body both count: a client that sends its body one byte at a time is
// answered 504 and its connection closed when the deadline passes, which frees its seat (seats are
// released when the response closes). The handler may still be working then; as upstream says, the
// request may still be processed, and the client cannot know its outcome. A watch is bounded by its
// own timeoutSeconds instead.

import type { Request, Response } from 'express';
import { StatusError, badRequest } from '../api/errors.ts';
import { noteErrorStatus } from './security-middleware.ts';

/** kube-apiserver's --request-timeout default. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

const UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds; undefined when it does not parse. */
export function parseGoDurationMs(text: string): number | undefined {
  const match = /^([-+]?)((?:\d*\.?\d*(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!match || text === '0') return text === '0' ? 0 : undefined;
  let total = 0;
  for (const part of match[2].matchAll(/(\d*\.?\d*)(ns|us|µs|ms|s|m|h)/g)) {
    if (part[1] === '' || part[1] === '.') return undefined;
    total += Number(part[1]) * UNITS_MS[part[2]];
  }
  return match[1] === '-' ? -total : total;
}

/**
 * The deadline of one request: `?timeout=` when positive and below the maximum, else the maximum.
 * Throws kube-apiserver's 400 for a `timeout` that does not parse.
 */
export function requestDeadlineMs(query: URLSearchParams, maximumMs: number): number {
  const value = query.get('timeout');
  if (value === null || value === '') return maximumMs;
  const parsed = parseGoDurationMs(value);
  if (parsed === undefined) throw badRequest(`invalid timeout specified in the request URL - time: invalid duration ${JSON.stringify(value)}`);
  return parsed > 0 && parsed < maximumMs ? parsed : maximumMs;
}

/** Answers 504 (or cuts the connection, if the answer has begun) when the request outlives `ms`. */
export function enforceRequestDeadline(req: Request, res: Response, ms: number): void {
  const timer = setTimeout(() => {
    if (res.writableEnded || res.destroyed) return;
    if (res.headersSent) {
      // Part of the answer is out: there is no way to say "timeout" any more (upstream aborts too).
      res.destroy();
      return;
    }
    const status = new StatusError(504, 'Timeout', 'Timeout: request did not complete within the allotted timeout', {}).toStatus();
    noteErrorStatus(res, status, false);
    res.status(504);
    res.setHeader('Content-Type', 'application/json');
    // The client may still be sending its body: the connection cannot be reused.
    res.setHeader('Connection', 'close');
    res.end(`${JSON.stringify(status)}\n`, () => req.socket.destroy());
  }, ms);
  res.once('close', () => clearTimeout(timer));
}
