// One etcd watch over a key range, on its own gRPC stream, that survives a lost member: when the
// stream breaks it reconnects (to any endpoint) and resumes from the revision after the last one
// it delivered, so callers see every revision once and in order. It asks for prev_kv (DELETED and
// MODIFIED need the previous object) and progress notifications (etcd then periodically says "you
// have everything up to revision R", which becomes onProgress). The watch ends with an error only
// when it cannot resume: its revision was compacted, or etcd cancelled it.
//
// The raw stream is used rather than etcd3's Watcher because the Watcher resumes from the header
// revision of the last response, which after a partial catch-up batch skips events, and drops the
// compact_revision of a cancelled watch.

import type { IDuplexStream, IEvent, IWatchRequest, IWatchResponse } from 'etcd3';
import type { EtcdConnection } from './etcd-client.ts';
import type { EtcdRange } from './etcd-keyspace.ts';
import { RevisionCompactedError } from './interface.ts';

export interface EtcdWatchCallbacks {
  /** Events of one or more revisions, in order. Throwing ends the watch with that error. */
  onEvents(events: IEvent[]): void;
  /** Every event up to `revision` has been delivered. */
  onProgress(revision: number): void;
  /** The watch ended and will not resume. */
  onError(error: Error): void;
  /** etcd reported that revisions before `revision` are compacted. */
  onCompacted?(revision: number): void;
}

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

const RECONNECT_FIRST_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 2_000;

export class EtcdWatch {
  /** The first revision not yet delivered: where a (re)connected stream starts. */
  private nextRevision: number;
  private stream: WatchStream | undefined;
  /** The id etcd gave the watch on the current stream ('' until created). */
  private watchId = '';
  private reconnectDelay = RECONNECT_FIRST_DELAY_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly connection: EtcdConnection,
    private readonly range: EtcdRange,
    fromRevision: number,
    private readonly callbacks: EtcdWatchCallbacks,
  ) {
    this.nextRevision = fromRevision + 1;
    void this.connect();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.closeStream();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let stream: WatchStream;
    try {
      stream = await this.connection.client.watchClient.watch();
    } catch (error) {
      this.scheduleReconnect(error);
      return;
    }
    if (this.stopped) {
      stream.on('error', () => undefined);
      stream.cancel();
      return;
    }
    this.stream = stream;
    this.watchId = '';
    stream.on('data', (response) => {
      if (this.stream === stream) this.onResponse(response);
    });
    const broken = (error: unknown): void => {
      if (this.stream !== stream) return;
      this.closeStream();
      this.scheduleReconnect(error);
    };
    stream.on('error', broken);
    stream.on('end', () => broken(new Error('etcd closed the watch stream')));
    stream.write({
      create_request: {
        key: this.range.start, range_end: this.range.end, start_revision: this.nextRevision,
        prev_kv: true, progress_notify: true,
      },
    });
  }

  private onResponse(response: IWatchResponse): void {
    if (this.stopped) return;
    // Answers to stream-wide progress requests carry watch id -1; this stream never sends those.
    if (this.watchId !== '' && response.watch_id !== this.watchId) return;
    if (response.created && !response.canceled) {
      this.watchId = response.watch_id;
      this.reconnectDelay = RECONNECT_FIRST_DELAY_MS;
      return;
    }
    if (response.canceled) {
      const compacted = Number(response.compact_revision);
      if (compacted > 0) {
        this.callbacks.onCompacted?.(compacted);
        this.fail(new RevisionCompactedError(this.nextRevision - 1, compacted));
      } else {
        this.fail(new Error(`etcd cancelled the watch${response.cancel_reason ? `: ${response.cancel_reason}` : ''}`));
      }
      return;
    }
    if (response.events.length === 0) {
      const revision = Number(response.header.revision);
      if (revision >= this.nextRevision) {
        this.nextRevision = revision + 1;
        this.deliver(() => this.callbacks.onProgress(revision));
      }
      return;
    }
    // After a resume etcd may repeat revisions already delivered; a revision is never split
    // between responses, so everything below the floor is a repeat.
    const floor = this.nextRevision;
    const fresh = response.events.filter((event) => Number(event.kv.mod_revision) >= floor);
    if (fresh.length === 0) return;
    this.nextRevision = Number(fresh[fresh.length - 1].kv.mod_revision) + 1;
    this.deliver(() => this.callbacks.onEvents(fresh));
  }

  private deliver(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.stop();
    this.callbacks.onError(error);
  }

  private scheduleReconnect(error: unknown): void {
    if (this.stopped) return;
    if (this.connection.isClosed) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.reconnectTimer = setTimeout(() => void this.connect(), this.reconnectDelay);
    this.reconnectTimer.unref();
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_DELAY_MS);
  }

  private closeStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) return;
    // Swallow the CANCELLED error cancel() emits.
    stream.on('error', () => undefined);
    stream.cancel();
  }
}
