// The byte streams a simulated process reads and writes: an input that can be read chunk by chunk until EOF
// (a WebSocket/SPDY stdin channel, or a buffer for a pipeline stage) and outputs that accept bytes.

export interface ProcessInput {
  /** The next chunk, or null at end of input (or when the session ends). */
  read(): Promise<Buffer | null>;
}

export interface ProcessOutput {
  write(data: Buffer | string): void;
}

export interface ProcessIo {
  stdin: ProcessInput;
  stdout: ProcessOutput;
  stderr: ProcessOutput;
}

/** Everything in one buffer: a pipeline stage's input, or `< file`. */
export class BufferInput implements ProcessInput {
  constructor(private data: Buffer | null) {}
  async read(): Promise<Buffer | null> {
    const chunk = this.data;
    this.data = null;
    return chunk && chunk.length > 0 ? chunk : null;
  }
}

export const EMPTY_INPUT: ProcessInput = { read: async () => null };

/** Input fed by a connection: chunks queue until read; end() marks EOF. */
export class QueuedInput implements ProcessInput {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private waiter?: () => void;
  /** Bytes queued and not yet read; the connection stops reading past a limit (backpressure). */
  queuedBytes = 0;

  push(chunk: Buffer): void {
    if (this.ended || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.queuedBytes += chunk.length;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  async read(): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        this.queuedBytes -= chunk.length;
        return chunk;
      }
      if (this.ended) return null;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }
}

/** Collects output in memory (a pipeline stage, a `$(…)`-less redirect). */
export class BufferOutput implements ProcessOutput {
  private readonly chunks: Buffer[] = [];
  write(data: Buffer | string): void {
    this.chunks.push(typeof data === 'string' ? Buffer.from(data) : data);
  }
  contents(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export const DISCARD: ProcessOutput = { write: () => undefined };

export async function readAll(input: ProcessInput, limitBytes = 256 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (let chunk = await input.read(); chunk; chunk = await input.read()) {
    total += chunk.length;
    if (total > limitBytes) throw new Error('input too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
