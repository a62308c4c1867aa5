// Writing protobuf replies (server/protobuf/encode.ts makes the bytes): single objects in one send, lists
// as pieces written with backpressure (10,000 pods are ~10 MB, never copied into one buffer), and the
// watch encoder for `application/vnd.kubernetes.protobuf;stream=watch`.

import type { Response } from 'express';
import type { KubeObject } from '../api/object.ts';
import type { StatusError } from '../api/errors.ts';
import { encodeObject, encodePartialObjectMetadata, encodeStatus, watchFrame } from './protobuf/encode.ts';
import type { BinaryWatchEncoder } from './watch-stream.ts';

/** Pieces are gathered up to this many bytes per write. */
const CHUNK_BYTES = 1 << 20;

function drained(res: Response): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onDrain = (): void => { cleanup(); resolve(true); };
    const onClose = (): void => { cleanup(); resolve(false); };
    const cleanup = (): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Sends a protobuf body given in pieces, with its Content-Length (the total is known up front). */
export async function sendProtobuf(res: Response, status: number, contentType: string, pieces: readonly Buffer[]): Promise<void> {
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  res.status(status);
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', String(total));
  if (total <= CHUNK_BYTES) {
    res.end(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, total));
    return;
  }
  let batch: Buffer[] = [];
  let batchBytes = 0;
  for (const piece of pieces) {
    batch.push(piece);
    batchBytes += piece.length;
    if (batchBytes < CHUNK_BYTES) continue;
    const chunk = Buffer.concat(batch, batchBytes);
    batch = [];
    batchBytes = 0;
    if (!res.write(chunk) && !(await drained(res))) return;
  }
  res.end(batchBytes ? Buffer.concat(batch, batchBytes) : undefined);
}

/**
 * Watch events as protobuf frames. Objects are whole kinds or PartialObjectMetadata; bookmarks are the
 * kind with only metadata.resourceVersion (and the initial-events-end annotation), as in JSON.
 */
export function protobufWatchEncoder(apiVersion: string, kind: string, partial: boolean): BinaryWatchEncoder {
  return {
    event: (type: string, object: KubeObject) =>
      watchFrame(type, partial ? encodePartialObjectMetadata(object) : encodeObject(object, apiVersion)),
    bookmark: (resourceVersion: string, initialEventsEnd: boolean) => watchFrame('BOOKMARK', encodeObject({
      apiVersion,
      kind,
      metadata: initialEventsEnd
        ? { resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } }
        : { resourceVersion },
    })),
    error: (status: StatusError) => watchFrame('ERROR', encodeStatus(status.toStatus())),
  };
}
