// The HTTP side of a watch: a chunked response with one JSON event per line. Headers go out at
// once (kubectl wait hangs otherwise); the stream ends at timeoutSeconds, when the client goes,
// or when the client reads too slowly (a bounded buffer instead of unbounded memory: the client
// re-lists, as a real API server forces with its watch channel limits).

import type { Request, Response } from 'express';
import type { StatusError } from '../api/errors.ts';
import type { WatchHandle } from '../storage/interface.ts';
import type { WatchSink } from '../api/registry/watch.ts';
import type { KubeObject } from '../api/object.ts';
import { objectJson, watchEventBuffer, watchEventJson } from './serialize.ts';

export interface WatchEncoder {
  /** The JSON text of the event's object (a plain object, or a one-row Table). */
  object(object: KubeObject): string;
  bookmark(resourceVersion: string, initialEventsEnd: boolean): string;
}

export interface WatchStreamOptions {
  timeoutSeconds: number;
  /** Close the stream when this many bytes are waiting to be sent to the client. */
  maxBufferedBytes: number;
  contentType: string;
}

export async function serveWatch(
  req: Request, res: Response, encoder: WatchEncoder, options: WatchStreamOptions,
  start: (sink: WatchSink) => Promise<WatchHandle>,
): Promise<void> {
  let handle: WatchHandle | undefined;
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    if (timer) clearTimeout(timer);
    handle?.stop();
    if (!res.writableEnded) res.end();
  };
  const write = (line: string | Buffer): void => {
    if (ended) return;
    if (res.writableLength > options.maxBufferedBytes) {
      // The client is not reading: drop it rather than buffer without bound.
      ended = true;
      if (timer) clearTimeout(timer);
      handle?.stop();
      res.destroy();
      return;
    }
    res.write(line);
  };
  const sink: WatchSink = {
    event: (type, object) => {
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
  handle = await start(sink);
  if (ended) {
    handle.stop();
    return;
  }
  if (!res.headersSent) res.flushHeaders();
  req.on('close', finish);
  res.on('close', finish);
  timer = setTimeout(finish, options.timeoutSeconds * 1000);
  timer.unref();
}
