// Watch events of a custom resource read through another version than the one an object was
// written in (conversion.strategy Webhook, or None with a changed storage version): every event's
// object is converted before it is sent, as the apiextensions-apiserver decodes each watched object
// into the served version. Conversion is asynchronous (a ConversionReview over HTTPS), so events,
// bookmarks and errors go through one ordered queue: nothing overtakes an event still being
// converted, and a bookmark's resourceVersion never reaches the client before the events below it.
//
// Batching follows the LIST path: the objects waiting at one time (the whole initial state of a
// watch, or live events that arrived while a review was in flight) go in one ConversionReview with
// the objects already in the served version left out; up to MAX_BATCH objects per review. A
// failed conversion ends the watch with an ERROR event carrying the converter's Status.

import { StatusError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import type { WatchEventType, WatchSink } from './watch.ts';

/** Objects sent in one ConversionReview at most (a large initial state goes in several). */
export const MAX_WATCH_CONVERSION_BATCH = 500;

type Pending =
  | { kind: 'event'; type: WatchEventType; object: KubeObject }
  | { kind: 'bookmark'; resourceVersion: string; initialEventsEnd: boolean }
  | { kind: 'error'; status: StatusError };

export interface ConvertingWatchSink extends WatchSink {
  /** The watch ended: drop what is queued and send nothing more. */
  stop(): void;
}

export function convertingWatchSink(
  apiVersion: string, convert: (objects: KubeObject[]) => Promise<KubeObject[]>, sink: WatchSink,
): ConvertingWatchSink {
  const queue: Pending[] = [];
  let busy = false;
  let stopped = false;

  const fail = (error: unknown): void => {
    stopped = true;
    queue.length = 0;
    sink.error(error instanceof StatusError
      ? error
      : new StatusError(500, 'InternalError', `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`));
  };

  const emit = (item: Pending): void => {
    if (item.kind === 'event') sink.event(item.type, item.object);
    else if (item.kind === 'bookmark') sink.bookmark(item.resourceVersion, item.initialEventsEnd);
    else {
      stopped = true;
      queue.length = 0;
      sink.error(item.status);
    }
  };

  const drain = async (): Promise<void> => {
    while (!stopped && queue.length > 0) {
      // Whatever does not need the converter goes out at once, in order.
      while (!stopped && queue.length > 0 && !(queue[0].kind === 'event' && queue[0].object.apiVersion !== apiVersion)) emit(queue.shift() as Pending);
      if (stopped || queue.length === 0) break;
      // The longest run of events from the head (objects in this version ride along unconverted).
      let end = 0;
      let toConvert = 0;
      while (end < queue.length && queue[end].kind === 'event' && toConvert < MAX_WATCH_CONVERSION_BATCH) {
        if ((queue[end] as { object: KubeObject }).object.apiVersion !== apiVersion) toConvert++;
        end++;
      }
      const batch = queue.slice(0, end) as Extract<Pending, { kind: 'event' }>[];
      let converted: KubeObject[];
      try {
        converted = await convert(batch.map((item) => item.object));
      } catch (error) {
        if (!stopped) fail(error);
        return;
      }
      if (stopped) return;
      queue.splice(0, end);
      batch.forEach((item, i) => sink.event(item.type, converted[i]));
    }
    // Cleared in the same step as the empty check: a later push starts a new drain.
    busy = false;
  };

  const push = (item: Pending): void => {
    if (stopped) return;
    // The common case stays synchronous: nothing queued and nothing to convert.
    if (!busy && queue.length === 0 && !(item.kind === 'event' && item.object.apiVersion !== apiVersion)) {
      emit(item);
      return;
    }
    queue.push(item);
    if (busy) return;
    busy = true;
    // Started after the current task, so events pushed together (a watch's initial state) share a review.
    queueMicrotask(() => void drain());
  };

  return {
    event: (type, object) => push({ kind: 'event', type, object }),
    bookmark: (resourceVersion, initialEventsEnd) => push({ kind: 'bookmark', resourceVersion, initialEventsEnd }),
    error: (status) => push({ kind: 'error', status }),
    stop: () => {
      stopped = true;
      queue.length = 0;
    },
  };
}
