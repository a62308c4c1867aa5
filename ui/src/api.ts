// The page's way to the API server: through the web view's server, which adds this browser
// session's credentials (the page never holds a token). Lists are followed by watches from the
// list's resourceVersion, as client-go's reflector does: a dropped watch resumes from the last
// version seen, a 410 Gone relists, and the banner says when the page is disconnected.

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string;
    deletionTimestamp?: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string; apiVersion: string }[];
    managedFields?: unknown[]; [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface Status {
  kind: 'Status';
  code?: number;
  reason?: string;
  message?: string;
}

export class ApiError extends Error {
  constructor(readonly code: number, message: string, readonly reason = '') {
    super(message);
  }
}

const UI_HEADERS = { 'x-kubefacade-ui': '1' };

/** Called when any request finds the session gone (the page then shows the login screen). */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(callback: () => void): void {
  onUnauthorized = callback;
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const status = JSON.parse(text) as Status;
    if (status.message) return new ApiError(response.status, status.message, status.reason ?? '');
  } catch {
    // Not a Status: the text itself is the message.
  }
  return new ApiError(response.status, text || `${response.status} ${response.statusText}`);
}

export async function request<T>(method: string, path: string, body?: string, contentType = 'application/json'): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { accept: 'application/json', ...UI_HEADERS, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body,
    credentials: 'same-origin',
  });
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw await errorOf(response);
  return await response.json() as T;
}

export const getJson = <T>(path: string): Promise<T> => request<T>('GET', path);

export interface WatchHandlers<T> {
  /** The whole collection, after a (re)list. */
  reset(items: T[]): void;
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', item: T, object: KubeObject): void;
  /** Whether the watch is connected (false while it retries). */
  connection?(connected: boolean): void;
  /** The API server refused (403 Forbidden, 404, ...): its Status message; retried slowly, since RBAC may change. */
  refused?(error: ApiError | undefined): void;
}

export interface Watch {
  stop(): void;
}

const LIST_PAGE = 5000;

/** One line of the multiplexed stream (server/ui/watch-multiplexer.ts). */
interface StreamLine {
  stream?: string;
  w?: string;
  e?: { type: string; object: KubeObject & Status };
  status?: number;
  body?: Status | string;
  end?: boolean;
}

interface ActiveWatch {
  onLine(line: StreamLine): void;
}

/**
 * Every watch of the page travels over one stream (GET /ui/stream): a browser keeps at most six
 * connections to one origin, and each watch would otherwise hold one for good.
 */
class WatchStream {
  private streamId: Promise<string> | undefined;
  private readonly active = new Map<string, ActiveWatch>();
  private counter = 0;

  /** Watches `path` until it ends ('ended'), expires ('expired', relist) or is refused (throws). */
  watch(path: string, onEvent: (type: string, object: KubeObject) => void): { done: Promise<'ended' | 'expired'>; stop(): void } {
    const id = String(++this.counter);
    let settle: (outcome: 'ended' | 'expired') => void = () => undefined;
    let fail: (error: unknown) => void = () => undefined;
    const done = new Promise<'ended' | 'expired'>((resolveWatch, rejectWatch) => {
      settle = (outcome) => {
        this.active.delete(id);
        resolveWatch(outcome);
      };
      fail = (error) => {
        this.active.delete(id);
        rejectWatch(error);
      };
    });
    this.active.set(id, {
      onLine: (line) => {
        if (line.e) {
          if (line.e.type !== 'ERROR') onEvent(line.e.type, line.e.object);
          else if (line.e.object.code === 410) settle('expired');
          else fail(new ApiError(line.e.object.code ?? 500, line.e.object.message ?? 'watch error'));
        } else if (line.status !== undefined) {
          const body = line.body;
          fail(new ApiError(line.status, typeof body === 'object' && body?.message ? body.message : String(body ?? line.status)));
        } else if (line.end) {
          settle('ended');
        }
      },
    });
    void (async () => {
      try {
        const stream = await this.open();
        if (!this.active.has(id)) return;
        await request('POST', '/ui/watches', JSON.stringify({ stream, id, path }));
      } catch (err) {
        fail(err);
      }
    })();
    return {
      done,
      stop: () => {
        if (!this.active.has(id)) return;
        settle('ended');
        void this.open().then((stream) => request('DELETE', `/ui/watches/${encodeURIComponent(stream)}/${id}`)).catch(() => undefined);
      },
    };
  }

  private open(): Promise<string> {
    if (!this.streamId) {
      this.streamId = this.connect();
      this.streamId.catch(() => {
        this.streamId = undefined;
      });
    }
    return this.streamId;
  }

  private connect(): Promise<string> {
    return new Promise((resolveStream, rejectStream) => {
      void (async () => {
        let named = false;
        try {
          const response = await fetch('/ui/stream', { headers: { accept: 'application/x-ndjson', ...UI_HEADERS }, credentials: 'same-origin' });
          if (response.status === 401) onUnauthorized();
          if (!response.ok || !response.body) throw await errorOf(response);
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          let buffered = '';
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            buffered += decoder.decode(value, { stream: true });
            let newline = buffered.indexOf('\n');
            while (newline >= 0) {
              const text = buffered.slice(0, newline).trim();
              buffered = buffered.slice(newline + 1);
              newline = buffered.indexOf('\n');
              if (!text) continue;
              const line = JSON.parse(text) as StreamLine;
              if (line.stream && !named) {
                named = true;
                resolveStream(line.stream);
              } else if (line.w) {
                this.active.get(line.w)?.onLine(line);
              }
            }
          }
        } catch (err) {
          if (!named) rejectStream(err);
        } finally {
          // The stream is gone: every watch on it ends, and resumes on a new stream from its last version.
          this.streamId = undefined;
          if (!named) rejectStream(new ApiError(502, 'the watch stream closed'));
          for (const watch of [...this.active.values()]) watch.onLine({ end: true });
        }
      })();
    });
  }
}

const watchStream = new WatchStream();

/** Lists `path` (paged) and then watches it, turning each object into `T` once. */
export function listWatch<T>(path: string, slim: (object: KubeObject) => T, handlers: WatchHandlers<T>): Watch {
  let stopped = false;
  let current: { stop(): void } | undefined;
  const separator = path.includes('?') ? '&' : '?';
  const run = async (): Promise<void> => {
    let resourceVersion = '';
    let failures = 0;
    while (!stopped) {
      try {
        if (!resourceVersion) {
          const items: T[] = [];
          let continueToken = '';
          do {
            const page = await getJson<{ items: KubeObject[]; metadata: { resourceVersion: string; continue?: string } }>(
              `${path}${separator}limit=${LIST_PAGE}${continueToken ? `&continue=${encodeURIComponent(continueToken)}` : ''}`);
            for (const item of page.items) items.push(slim(item));
            resourceVersion = page.metadata.resourceVersion;
            continueToken = page.metadata.continue ?? '';
          } while (continueToken && !stopped);
          handlers.reset(items);
        }
        if (stopped) return;
        handlers.connection?.(true);
        handlers.refused?.(undefined);
        const watch = watchStream.watch(`${path}${separator}watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`, (type, object) => {
          failures = 0;
          if (object.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') handlers.event(type, slim(object), object);
        });
        current = watch;
        const outcome = await watch.done;
        if (outcome === 'expired') resourceVersion = '';
      } catch (err) {
        if (stopped) return;
        if (err instanceof ApiError && err.code === 401) return;
        failures += 1;
        if (err instanceof ApiError && err.code >= 400 && err.code < 500 && err.code !== 429) {
          // An answer, not a lost connection: show it, and look again later.
          handlers.refused?.(err);
          await new Promise((resolveWait) => setTimeout(resolveWait, 10_000));
          continue;
        }
        handlers.connection?.(false);
        await new Promise((resolveWait) => setTimeout(resolveWait, Math.min(8000, 250 * 2 ** Math.min(failures, 5))));
      }
    }
  };
  void run();
  return {
    stop() {
      stopped = true;
      current?.stop();
    },
  };
}
