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

/** Lists `path` (paged) and then watches it, turning each object into `T` once. */
export function listWatch<T>(path: string, slim: (object: KubeObject) => T, handlers: WatchHandlers<T>): Watch {
  let stopped = false;
  let controller: AbortController | undefined;
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
        controller = new AbortController();
        const response = await fetch(`${path}${separator}watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`, {
          headers: { accept: 'application/json', ...UI_HEADERS }, credentials: 'same-origin', signal: controller.signal,
        });
        if (response.status === 401) onUnauthorized();
        if (response.status === 410) {
          resourceVersion = '';
          continue;
        }
        if (!response.ok || !response.body) throw await errorOf(response);
        handlers.connection?.(true);
        handlers.refused?.(undefined);
        failures = 0;
        const outcome = await readEvents(response.body, (type, object) => {
          if (object.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') handlers.event(type, slim(object), object);
        });
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
      controller?.abort();
    },
  };
}

/** Reads newline-delimited watch events until the stream ends; 'expired' on an ERROR 410. */
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (type: string, object: KubeObject) => void): Promise<'ended' | 'expired'> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return 'ended';
    buffered += decoder.decode(value, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (!line) continue;
      const event = JSON.parse(line) as { type: string; object: KubeObject & Status };
      if (event.type === 'ERROR') {
        if (event.object.code === 410) {
          void reader.cancel();
          return 'expired';
        }
        throw new ApiError(event.object.code ?? 500, event.object.message ?? 'watch error');
      }
      onEvent(event.type, event.object);
    }
  }
}
