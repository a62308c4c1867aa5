// Many watches over one browser connection. A browser opens at most six HTTP/1.1 connections to one
// origin, and every watch holds one for good: with nodes, pods, events and a few opened kinds the page
// would have none left for its ordinary requests. So the page opens one long-lived stream
// (GET /ui/stream), and asks for watches on it (POST /ui/watches {stream, id, path}); the server runs
// each watch against the API server with the session's token and writes its events into the stream,
// tagged with the watch's id. DELETE /ui/watches/<stream>/<id> stops one. Lines on the stream:
//   {"w":"<id>","e":<the API server's watch event, as sent>}
//   {"w":"<id>","status":<code>,"body":<the API server's Status>}   the watch was refused
//   {"w":"<id>","end":true}                                       the watch ended (resume from the last version)

import { randomBytes } from 'node:crypto';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { ApiForwarder } from './api-forwarder.ts';

/** Past this many unsent bytes the browser is not reading: the stream is closed and the page relists. */
const MAX_UNSENT_BYTES = 32 * 1024 * 1024;
const MAX_WATCHES_PER_STREAM = 64;

interface Stream {
  res: ServerResponse;
  token: string;
  watches: Map<string, ClientRequest>;
}

export class WatchMultiplexer {
  private readonly streams = new Map<string, Stream>();

  constructor(private readonly api: ApiForwarder) {}

  /** GET /ui/stream: the stream's first line names it. */
  open(res: ServerResponse, token: string): void {
    const id = randomBytes(16).toString('base64url');
    const stream: Stream = { res, token, watches: new Map() };
    this.streams.set(id, stream);
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(`${JSON.stringify({ stream: id })}\n`);
    res.on('close', () => {
      this.streams.delete(id);
      for (const upstream of stream.watches.values()) upstream.destroy();
    });
  }

  /** POST /ui/watches: starts a watch on a stream of the same session. */
  start(streamId: string, watchId: string, path: string, token: string): 'started' | 'no-stream' | 'too-many' {
    const stream = this.streams.get(streamId);
    if (!stream || stream.token !== token) return 'no-stream';
    if (stream.watches.size >= MAX_WATCHES_PER_STREAM && !stream.watches.has(watchId)) return 'too-many';
    stream.watches.get(watchId)?.destroy();
    const write = (line: string): void => {
      if (stream.res.writableEnded) return;
      stream.res.write(line);
      if (stream.res.writableLength > MAX_UNSENT_BYTES) stream.res.destroy();
    };
    const tag = JSON.stringify(watchId);
    const upstream = this.api.stream(path, token, (answer: IncomingMessage) => {
      if (answer.statusCode !== 200) {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          write(`{"w":${tag},"status":${answer.statusCode ?? 502},"body":${isJson(text) ? text : JSON.stringify(text)}}\n`);
          stream.watches.delete(watchId);
        });
        return;
      }
      let buffered = '';
      answer.setEncoding('utf8');
      answer.on('data', (chunk: string) => {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) write(`{"w":${tag},"e":${line}}\n`);
          newline = buffered.indexOf('\n');
        }
      });
      // 'close' also covers a connection the API server dropped mid-stream (no 'end' then).
      answer.on('close', () => {
        if (stream.watches.get(watchId) !== upstream) return;
        stream.watches.delete(watchId);
        write(`{"w":${tag},"end":true}\n`);
      });
    }, (error: Error) => {
      if (stream.watches.get(watchId) !== upstream) return;
      stream.watches.delete(watchId);
      write(`{"w":${tag},"status":502,"body":${JSON.stringify({ kind: 'Status', code: 502, message: `the API server could not be reached: ${error.message}` })}}\n`);
    });
    stream.watches.set(watchId, upstream);
    return 'started';
  }

  stop(streamId: string, watchId: string, token: string): void {
    const stream = this.streams.get(streamId);
    if (!stream || stream.token !== token) return;
    stream.watches.get(watchId)?.destroy();
    stream.watches.delete(watchId);
  }

  close(): void {
    for (const stream of this.streams.values()) stream.res.destroy();
    this.streams.clear();
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export type { IncomingMessage };
