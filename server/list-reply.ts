// List replies (plain lists, PartialObjectMetadataList, Tables; JSON or YAML) written piece by
// piece. A cluster-wide list of 100k pods is hundreds of megabytes: built as one string it
// exceeds V8's string limit ("Invalid string length", a 500), and even below that it holds the
// whole reply in memory at once. Here the reply is the list's leading fields, then its array
// one element at a time, gathered into chunks written with backpressure. A reply that fits in
// one chunk goes out in a single send, so small lists keep their Content-Length and bytes.

import type { Response } from 'express';
import { stringify as toYaml } from 'yaml';
import type { ReplyEncoding } from './negotiation.ts';

/** A list-shaped body: leading fields, then one array (`items`, or `rows` for a Table) last. */
export interface ListReplyBody {
  /** The fields before the array, in wire order (kind, apiVersion, metadata, ...). */
  head: Record<string, unknown>;
  arrayField: string;
  length: number;
  /** The JSON text of element `index`, exactly as JSON.stringify would write it inside the array. */
  elementJson(index: number): string;
}

const DEFAULT_CHUNK_CHARS = 1 << 20;
let chunkChars = DEFAULT_CHUNK_CHARS;

/** Sets how many characters are gathered before a write (tests lower it to exercise streaming); undefined restores the default. */
export function setListReplyChunkChars(chars: number | undefined): void {
  chunkChars = chars ?? DEFAULT_CHUNK_CHARS;
}

/** `{"kind":...,"items":[...]}`: the same text JSON.stringify gives for the whole list object. */
function* jsonPieces(body: ListReplyBody): Generator<string> {
  const head = JSON.stringify(body.head);
  const open = head === '{}' ? '{' : `${head.slice(0, -1)},`;
  yield `${open}${JSON.stringify(body.arrayField)}:[`;
  for (let i = 0; i < body.length; i++) {
    if (i > 0) yield ',';
    yield body.elementJson(i);
  }
  yield ']}';
}

/**
 * The YAML the `yaml` package writes for the whole list: the head fields, then `items:` and each
 * element rendered inside a one-element array under the same key, so indentation and line
 * folding are those of the full document. Elements are parsed from their JSON text (as the whole
 * reply was), so no shared references turn into YAML aliases.
 */
function* yamlPieces(body: ListReplyBody): Generator<string> {
  yield Object.keys(body.head).length === 0 ? '' : toYaml(body.head);
  if (body.length === 0) {
    yield toYaml({ [body.arrayField]: [] });
    return;
  }
  const keyLine = toYaml({ [body.arrayField]: [0] }).split('\n')[0] + '\n';
  yield keyLine;
  for (let i = 0; i < body.length; i++) {
    yield toYaml({ [body.arrayField]: [JSON.parse(body.elementJson(i))] }).slice(keyLine.length);
  }
}

/** Resolves true once the response can take more, false if the connection went first. */
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

/** Writes a 200 list reply in `encoding`, streamed in chunks when it is larger than one chunk. */
export async function sendListReply(res: Response, contentType: string, encoding: ReplyEncoding, body: ListReplyBody): Promise<void> {
  const limit = chunkChars;
  let pending: string[] = [];
  let pendingChars = 0;
  let streaming = false;
  for (const piece of encoding === 'yaml' ? yamlPieces(body) : jsonPieces(body)) {
    pending.push(piece);
    pendingChars += piece.length;
    if (pendingChars < limit) continue;
    if (!streaming) {
      res.status(200);
      res.setHeader('Content-Type', contentType);
      streaming = true;
    }
    const chunk = pending.join('');
    pending = [];
    pendingChars = 0;
    // The client left: stop producing (the response is already gone).
    if (!res.write(chunk) && !(await drained(res))) return;
  }
  const rest = pending.join('');
  if (streaming) {
    res.end(rest);
    return;
  }
  res.status(200);
  res.setHeader('Content-Type', contentType);
  // A Buffer, so express leaves the negotiated media type as it is (no charset added).
  res.send(Buffer.from(rest));
}
