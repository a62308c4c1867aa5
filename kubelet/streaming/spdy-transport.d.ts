// spdy-transport ships no types: the part of its API the kubelet's SPDY/3.1 streaming uses.
declare module 'spdy-transport' {
  import type { Duplex } from 'node:stream';

  export interface SpdyStream extends Duplex {
    id: number;
    headers: Record<string, string | undefined>;
    respond(status: number, headers: Record<string, string>, callback?: (error?: Error) => void): void;
    abort(code?: number, callback?: () => void): void;
    /** Internal state; the send window is read to lift flow control the peer does not speak (spdy-connection.ts). */
    _spdyState?: { window: { send: WindowSide } };
  }

  /** One direction of a stream's flow-control window. */
  export interface WindowSide {
    updateMax(max: number): void;
    update(delta: number): void;
    getDelta(): number;
    on(event: 'drain', listener: () => void): this;
  }

  export interface SpdyConnection {
    start(version: number): void;
    on(event: 'stream', listener: (stream: SpdyStream) => void): this;
    on(event: 'error' | 'close', listener: (error?: Error) => void): this;
    end(callback?: () => void): void;
    destroyStreams(error?: Error): void;
    /** Client side (tests): opens a stream; it emits 'response' when the peer's SYN_REPLY arrives. */
    request(options: { method: string; path: string; headers: Record<string, string> }, callback?: (error: Error | null, stream: SpdyStream) => void): SpdyStream;
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
