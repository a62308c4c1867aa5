// How LevelDbStorage lays its data out in one LevelDB keyspace:
//   d:<storage key>        → `<revision> <object JSON>` (the revision header lets the committer
//                             compare-and-swap without parsing the object)
//   l:<16-digit revision>  → change-log record of that write (see encodeLogRecord)
//   m:revision             → the latest committed revision
//   m:compacted            → log records up to and including this revision have been dropped
//   m:format               → the layout version (STORAGE_FORMAT); a store without it predates the
//                             marker and has this same layout
// Distinct first bytes keep the three families apart so a data prefix scan never sees log or meta.

import type { KubeObject } from '../api/object.ts';
import type { StorageEvent, WatchEventType } from './interface.ts';
import { prefixUpperBound } from './keys.ts';
import type { JsonDecoder } from './leveldb-value-codec.ts';

const asIs: JsonDecoder = (_key, text) => text;

export const META_REVISION = 'm:revision';
export const META_COMPACTED = 'm:compacted';
export const META_FORMAT = 'm:format';
/** The layout this code reads and writes; a store marked with another one is refused, never rewritten. */
export const STORAGE_FORMAT = '1';

/** The store was written by a kubefacade whose layout this version does not read. */
export class IncompatibleDataDirError extends Error {
  override readonly name = 'IncompatibleDataDirError';
  constructor(readonly found: string) {
    super(`the store was written in storage format ${found} by another kubefacade version; this version reads format ${STORAGE_FORMAT} (use that version, or \`kubefacade migrate\` from it, or a new data dir)`);
  }
}
const DATA = 'd:';
const LOG = 'l:';

export function dataKey(key: string): string {
  return DATA + key;
}

export function storageKeyOf(dataKeyString: string): string {
  return dataKeyString.slice(DATA.length);
}

/** Iterator bounds covering every data key under a storage-key prefix. */
export function dataRange(prefix: string): { gte: string; lt: string } {
  return { gte: DATA + prefix, lt: prefixUpperBound(DATA + prefix) as string };
}

export function logKey(revision: number): string {
  return LOG + String(revision).padStart(16, '0');
}

export function revisionOfLogKey(key: string): number {
  return Number(key.slice(LOG.length));
}

export function encodeStoredValue(revision: number, json: string): string {
  return `${revision} ${json}`;
}

export interface StoredValue {
  revision: number;
  json: string;
}

export function decodeStoredValue(raw: string): StoredValue {
  const space = raw.indexOf(' ');
  return { revision: Number(raw.slice(0, space)), json: raw.slice(space + 1) };
}

/**
 * A change-log record is `type \n key \n objectJSON \n prevObjectJSON` (prev empty for ADDED).
 * JSON text never contains a raw newline and keys never do, so the header (type and key) can be
 * read without parsing the objects: list-at-revision skips records of other prefixes cheaply.
 * For a resource encrypted at rest both objects are stored encrypted, as its data entry is
 * (leveldb-value-codec.ts: prefix + base64, no newline either); `decode` gives their JSON back.
 */
export function encodeLogRecord(type: WatchEventType, key: string, objectJson: string, prevJson: string | undefined): string {
  return `${type}\n${key}\n${objectJson}\n${prevJson ?? ''}`;
}

export interface LogRecordHeader {
  type: WatchEventType;
  key: string;
  /** Offset where the object JSON starts. */
  bodyStart: number;
}

export function decodeLogHeader(record: string): LogRecordHeader {
  const first = record.indexOf('\n');
  const second = record.indexOf('\n', first + 1);
  return { type: record.slice(0, first) as WatchEventType, key: record.slice(first + 1, second), bodyStart: second + 1 };
}

/** The object as it was before this record's write (undefined for ADDED). */
export function logRecordPrevObject(record: string, header: LogRecordHeader, decode: JsonDecoder = asIs): KubeObject | undefined {
  const split = record.indexOf('\n', header.bodyStart);
  const prev = record.slice(split + 1);
  return prev === '' ? undefined : (JSON.parse(decode(header.key, prev)) as KubeObject);
}

export function decodeLogEvent(revision: number, record: string, decode: JsonDecoder = asIs): StorageEvent {
  const header = decodeLogHeader(record);
  const split = record.indexOf('\n', header.bodyStart);
  const object = JSON.parse(decode(header.key, record.slice(header.bodyStart, split))) as KubeObject;
  const prev = record.slice(split + 1);
  const event: StorageEvent = { type: header.type, key: header.key, object, revision };
  if (prev !== '') event.prevObject = JSON.parse(decode(header.key, prev)) as KubeObject;
  return event;
}
