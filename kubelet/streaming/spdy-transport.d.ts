// spdy-transport ships no types: the part of its API the kubelet's SPDY/3.1 streaming uses.
declare module 'spdy-transport' {
  import type { Duplex } from 'node:stream';

  export interface SpdyStream extends Duplex {
    id: number;
    headers: Record<string, string | undefined>;
    respond(status: number, headers: Record<string, string>, callback?: (error?: Error) => void): void;
    abort(code?: number, callback?: () => void): void;
  }

  export interface SpdyConnection {
    start(version: number): void;
    on(event: 'stream', listener: (stream: SpdyStream) => void): this;
    on(event: 'error' | 'close', listener: (error?: Error) => void): this;
    end(callback?: () => void): void;
    destroyStreams(error?: Error): void;
  }

  export interface ConnectionOptions {
    protocol: 'spdy' | 'http2';
    isServer: boolean;
    windowSize?: number;
    maxChunk?: number | false;
    autoSpdy31?: boolean;
  }

  type KvCallback = (error: Error | null, headers?: Record<string, string>) => void;

  const transport: {
    connection: { create(socket: Duplex, options: ConnectionOptions): SpdyConnection };
    protocol: { spdy: { parser: { create(options: { isServer: boolean }): { parseKVs(buffer: unknown, callback: KvCallback): void } } } };
  };
  export default transport;
}
