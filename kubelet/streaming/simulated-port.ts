// What answers on a declared containerPort of a simulated container: an HTTP server with one deterministic page
// (the image's own page for well-known images, such as nginx's welcome page; otherwise a description of the
// container), keep-alive as HTTP/1.1 has it. A connection whose first bytes are not an HTTP request (another
// protocol) is accepted and then closed, as a server that does not understand the client would.
import { imageProfile } from '../shell/image-profiles.ts';

export interface PortOwner {
  namespace: string;
  pod: string;
  container: string;
  image: string;
  port: number;
  protocol: string;
}

const HTTP_METHOD = /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|CONNECT|TRACE) /;

export function describePage(owner: PortOwner): { contentType: string; body: string; server: string } {
  const page = imageProfile(owner.image).httpPage?.(owner.port);
  if (page) return page;
  return {
    contentType: 'text/plain; charset=utf-8',
    server: 'kubefacade-simulated',
    body: `kubefacade simulated container\npod: ${owner.namespace}/${owner.pod}\ncontainer: ${owner.container}\nimage: ${owner.image}\nport: ${owner.port}/${owner.protocol}\n`,
  };
}

/** One TCP connection to the simulated port: feed it the client's bytes, it answers through `reply`. */
export class SimulatedConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private closed = false;
  /**
   * A request whose body is still arriving: how many body bytes are yet to come (dropped as they arrive, never
   * buffered, so a large upload costs no copying) and the answer to give once they have.
   */
  private pending?: { bodyBytesLeft: number; method: string; keepAlive: boolean };

  constructor(private readonly owner: PortOwner, private readonly reply: (data: Buffer) => void, private readonly close: () => void) {}

  receive(data: Buffer): void {
    if (this.closed) return;
    if (this.pending) {
      const taken = Math.min(this.pending.bodyBytesLeft, data.length);
      this.pending.bodyBytesLeft -= taken;
      data = data.subarray(taken);
      if (this.pending.bodyBytesLeft > 0) return;
      const { method, keepAlive } = this.pending;
      this.pending = undefined;
      if (!this.respond(method, keepAlive)) return;
    }
    if (data.length === 0) return;
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    const head = this.buffer.subarray(0, 8).toString('latin1');
    if (head.length >= 8 && !HTTP_METHOD.test(this.buffer.subarray(0, 10).toString('latin1'))) return this.finish();
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end === -1) {
        if (this.buffer.length > 64 * 1024) this.finish();
        return;
      }
      const headerText = this.buffer.subarray(0, end).toString('latin1');
      const lines = headerText.split('\r\n');
      const [method = '', , version = 'HTTP/1.1'] = lines[0].split(' ');
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const bodyLength = Number(headers.get('content-length') ?? 0) || 0;
      const keepAlive = version === 'HTTP/1.1' ? headers.get('connection')?.toLowerCase() !== 'close' : headers.get('connection')?.toLowerCase() === 'keep-alive';
      const available = this.buffer.length - (end + 4);
      if (available < bodyLength) {
        this.pending = { bodyBytesLeft: bodyLength - available, method, keepAlive };
        this.buffer = Buffer.alloc(0);
        return;
      }
      this.buffer = this.buffer.subarray(end + 4 + bodyLength);
      if (!this.respond(method, keepAlive)) return;
      if (this.buffer.length === 0) return;
    }
  }

  /** Answers one request with the page; false when the connection closes after it. */
  private respond(method: string, keepAlive: boolean): boolean {
    const page = describePage(this.owner);
    const body = Buffer.from(page.body);
    const response = [
      'HTTP/1.1 200 OK',
      `Server: ${page.server}`,
      `Date: ${new Date().toUTCString()}`,
      `Content-Type: ${page.contentType}`,
      `Content-Length: ${body.length}`,
      `Connection: ${keepAlive ? 'keep-alive' : 'close'}`,
      '', '',
    ].join('\r\n');
    this.reply(Buffer.concat([Buffer.from(response, 'latin1'), method === 'HEAD' ? Buffer.alloc(0) : body]));
    if (keepAlive) return true;
    this.finish();
    return false;
  }

  finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.close();
  }
}
