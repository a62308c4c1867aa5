// The HTTP side of a watch: a chunked response with one JSON event per line. Headers go out at
// once (kubectl wait hangs otherwise); the stream ends at timeoutSeconds, when the client goes,
// or when the client reads too slowly (a bounded buffer instead of unbounded memory: the client
// re-lists, as a real API server forces with its watch channel limits). All streams together are
// bounded too (watch-buffer-budget.ts): past the budget the stream holding the most is dropped.

import { apiServerMetrics } from './metrics/api-server-metrics.ts';
import type { Request, Response } from 'express';
import type { StatusError } from '../api/errors.ts';
import type { WatchHandle } from '../storage/interface.ts';
import type { WatchSink } from '../api/registry/watch.ts';
import type { KubeObject } from '../api/object.ts';
import { objectJson, watchEventBuffer, watchEventJson } from './serialize.ts';
import type { Writable } from 'node:stream';

export interface WatchEncoder {
  /** The JSON text of the event's object (a plain object, or a one-row Table). */
  object(object: KubeObject): string;
  bookmark(resourceVersion: string, initialEventsEnd: boolean): string;
}

/** Whole frames for binary (protobuf `;stream=watch`) watches: each call returns one framed event. */
export interface BinaryWatchEncoder {
  event(type: string, object: KubeObject): Buffer;
  bookmark(resourceVersion: string, initialEventsEnd: boolean): Buffer;
  error(status: StatusError): Buffer;
}

export interface WatchStreamOptions {
  timeoutSeconds: number;
  /** Close the stream when this many bytes are waiting to be sent to the client. */
  maxBufferedBytes: number;
  contentType: string;
  /** The budget shared with the process's other watch streams (default: processWatchBufferBudget). */
  budget?: WatchBufferBudget;
}

export async function serveWatch(
  req: Request, res: Response, encoder: WatchEncoder | BinaryWatchEncoder, options: WatchStreamOptions,
  start: (sink: WatchSink) => Promise<WatchHandle>,
): Promise<void> {
  let handle: WatchHandle | undefined;
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  // The client is not reading (or reads slowest while memory is short): drop it rather than buffer without bound.
  // Logged as kube-apiserver's cacher logs it: a dropped watch makes its client relist, which is worth seeing.
  const drop = (reason = 'the process-wide watch buffer budget is exhausted'): void => {
    if (ended) return;
    console.error(`Forcing watcher close due to unresponsiveness: ${req.originalUrl}: ${res.writableLength} bytes unsent; ${reason}`);
    ended = true;
    if (timer) clearTimeout(timer);
    handle?.stop();
    budgeted.release();
    res.destroy();
  };
  const budgeted = (options.budget ?? processWatchBufferBudget).track(res, drop);
  const finish = (): void => {
    if (ended) return;
    ended = true;
    if (timer) clearTimeout(timer);
    handle?.stop();
    budgeted.release();
    if (!res.writableEnded) res.end();
  };
  const write = (line: string | Buffer): void => {
    if (ended) return;
    if (res.writableLength > options.maxBufferedBytes) {
      drop(`over the per-watch limit of ${options.maxBufferedBytes} bytes`);
      return;
    }
    res.write(line);
    budgeted.afterWrite();
  };
  const sent = apiServerMetrics.watchEventCounter(req.requestInfo);
  const sink: WatchSink = 'event' in encoder ? {
    event: (type, object) => {
      sent.inc();
      write(encoder.event(type, object));
    },
    bookmark: (resourceVersion, initialEventsEnd) => write(encoder.bookmark(resourceVersion, initialEventsEnd)),
    error: (status: StatusError) => {
      write(encoder.error(status));
      finish();
    },
  } : {
    event: (type, object) => {
      sent.inc();
      const text = encoder.object(object);
      // A plain-JSON watcher gets the shared encoded line (the same string object means the same JSON).
      write(text === objectJson(object) ? watchEventBuffer(type, object) : watchEventJson(type, text));
    },
    bookmark: (resourceVersion, initialEventsEnd) => write(watchEventJson('BOOKMARK', encoder.bookmark(resourceVersion, initialEventsEnd))),
    error: (status: StatusError) => {
      write(watchEventJson('ERROR', JSON.stringify(status.toStatus())));
      finish();
    },
  };
  res.statusCode = 200;
  res.setHeader('Content-Type', options.contentType);
  res.setHeader('Cache-Control', 'no-cache, private');
  // Events that arrive while start() replays initial state are written in order behind them.
  try {
    handle = await start(sink);
  } catch (error) {
    budgeted.release();
    throw error;
  }
  if (ended) {
    handle.stop();
    return;
  }
  if (!res.headersSent) res.flushHeaders();
  // A HEAD carries no body: its answer is complete with the headers. Kept open, it held the
  // connection, and a keep-alive client that reused it (the response looked finished) hung.
  if (req.method === 'HEAD') {
    finish();
    return;
  }
  req.on('close', finish);
  res.on('close', finish);
  timer = setTimeout(finish, options.timeoutSeconds * 1000);
  timer.unref();
}

// One memory budget for the bytes every watch stream of the process has waiting for its client.
// Each stream is also capped on its own (WatchStreamOptions.maxBufferedBytes), but 1,000 slow
// watchers at a 16 MiB cap could still hold 16 GiB; when their total passes the budget the
// stream holding the most is dropped first, as kube-apiserver terminates a watcher whose channel
// is blocked: its client reconnects (and re-lists if it has fallen out of the history).
//
// Totals are kept incrementally from what each stream reported at its last write or drain;
// a stream that flushed since is overcounted until then, so before dropping anyone the total is
// recounted exactly from every stream.

export interface BudgetedStream {
  /** Stops accounting for the stream (it ended). */
  release(): void;
  /** Call after writing to the stream: accounts for its buffer and enforces the budget. */
  afterWrite(): void;
}

interface TrackedStream {
  output: Writable;
  accounted: number;
  drop(): void;
}

export class WatchBufferBudget {
  private readonly streams = new Set<TrackedStream>();
  private total = 0;
  private dropped = 0;

  constructor(private limitBytes: number) {}

  get limit(): number {
    return this.limitBytes;
  }

  set limit(bytes: number) {
    this.limitBytes = bytes;
  }

  /** Bytes waiting across tracked streams, as last accounted. */
  get bufferedBytes(): number {
    return this.total;
  }

  /** Streams dropped for the budget since start. */
  get droppedStreams(): number {
    return this.dropped;
  }

  /** Tracks a stream; `drop` ends it when the budget needs its memory back. */
  track(output: Writable, drop: () => void): BudgetedStream {
    const stream: TrackedStream = { output, accounted: 0, drop };
    this.streams.add(stream);
    const onDrain = (): void => this.account(stream);
    output.on('drain', onDrain);
    return {
      release: () => {
        if (!this.streams.delete(stream)) return;
        this.total -= stream.accounted;
        output.off('drain', onDrain);
      },
      afterWrite: () => {
        this.account(stream);
        if (this.total > this.limitBytes) this.enforce();
      },
    };
  }

  private account(stream: TrackedStream): void {
    const now = stream.output.writableLength;
    this.total += now - stream.accounted;
    stream.accounted = now;
  }

  private enforce(): void {
    this.total = 0;
    for (const stream of this.streams) {
      stream.accounted = stream.output.writableLength;
      this.total += stream.accounted;
    }
    while (this.total > this.limitBytes && this.streams.size > 0) {
      let largest: TrackedStream | undefined;
      for (const stream of this.streams) if (!largest || stream.accounted > largest.accounted) largest = stream;
      const victim = largest as TrackedStream;
      this.streams.delete(victim);
      this.total -= victim.accounted;
      this.dropped++;
      victim.drop();
    }
  }
}

/**
 * The process's budget (default 512 MiB; server/start.ts sets --watch-buffer-budget). Shared by
 * every server in the process, since the memory it bounds is the process's.
 */
export const processWatchBufferBudget = new WatchBufferBudget(512 * 1024 * 1024);
