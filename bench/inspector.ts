// A minimal Chrome DevTools Protocol client for a component started with `--inspect=127.0.0.1:0`: finds the
// debugger's WebSocket URL in the process's log and sends commands (heap usage, forced GC, an expression to
// evaluate). Used by `metrics-scrape` to read the API server's own heap around a request.
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { sleep } from './processes.ts';

export class InspectorSession {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw: Buffer) => {
      const message = JSON.parse(raw.toString('utf8')) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = message.id === undefined ? undefined : this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id!);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
    ws.on('close', () => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error('the inspector connection closed'));
      this.waiting.clear();
    });
  }

  /** Waits for `Debugger listening on ws://…` in the log file, then connects. */
  static async connect(logFile: string, timeoutMs = 30_000): Promise<InspectorSession> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(log)?.[1];
      if (url) {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
        return new InspectorSession(ws);
      }
      if (Date.now() > deadline) throw new Error(`no inspector URL in ${logFile}`);
      await sleep(100);
    }
  }

  send<T>(method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The value of an expression evaluated in the process's main context. */
  async evaluate<T>(expression: string): Promise<T> {
    const reply = await this.send<{ result: { value?: T }; exceptionDetails?: { text: string } }>('Runtime.evaluate', { expression, returnByValue: true });
    if (reply.exceptionDetails) throw new Error(`${expression}: ${reply.exceptionDetails.text}`);
    return reply.result.value as T;
  }

  /**
   * Ends the session and waits for it to be closed (at most 2 s): a process that exits while a debugger is still
   * attached waits for it to disconnect, and would outlive its SIGTERM.
   */
  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2_000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close();
    });
  }
}
