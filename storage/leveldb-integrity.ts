// Checks a LevelDB directory's files before LevelDB opens it. LevelDB as classic-level runs it has
// no paranoid checks: it opens a directory without CURRENT as a new, empty database beside the old
// files, skips write-ahead-log records whose checksum fails (noting it only in its own LOG file),
// and reads table blocks without verifying their checksums. Opening also rewrites the recovered log
// into a table, so the evidence is gone by the next start. The server must therefore look first:
// CURRENT and the MANIFEST it names, every record of every log file and of the MANIFEST, and every
// block of every table, each against its CRC32C, as LevelDB's own formats define them
// (doc/log_format.md, doc/table_format.md).
//
// A log that ends inside a record is not damage by itself: a process killed while appending leaves
// one, and LevelDB drops it, correctly, since that write was never acknowledged. Whether acknowledged
// writes went missing is decided from the acknowledged revision kept outside the database
// (leveldb-revision-marks.ts).

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { uncompress } from 'snappyjs';

export interface FileDamage {
  /** The damaged (or missing) file, as a path. */
  file: string;
  problem: string;
}

/** The store refuses to open: something it cannot prove harmless. The message names the file and the fix. */
export class StorageDamagedError extends Error {
  constructor(readonly dataDir: string, readonly damage: FileDamage[]) {
    super(damagedMessage(dataDir, damage));
    this.name = 'StorageDamagedError';
  }
}

export function repairHint(dataDir: string): string {
  return `stop every server using ${dataDir} and run \`kubefacade repair --data-dir ${dataDir}\` (it salvages what is intact and reports what was lost)`;
}

function damagedMessage(dataDir: string, damage: FileDamage[]): string {
  const listed = damage.slice(0, 5).map((d) => `${d.file}: ${d.problem}`).join('; ');
  const more = damage.length > 5 ? `; and ${damage.length - 5} more` : '';
  return `storage is damaged, refusing to serve a part of it: ${listed}${more}. To recover, ${repairHint(dataDir)}`;
}

const LOG_BLOCK = 32 * 1024;
const LOG_HEADER = 7;
const TABLE_FOOTER = 48;
const BLOCK_TRAILER = 5;
const MASK_DELTA = 0xa282ead8;

const enum RecordType { Zero = 0, Full = 1, First = 2, Middle = 3, Last = 4 }

/** Names LevelDB gives its files: a directory holding any of them holds a database. */
export function isLevelDbFile(name: string): boolean {
  return name === 'CURRENT' || /^MANIFEST-\d+$/.test(name) || /^\d+\.(log|ldb|sst)$/.test(name);
}

export async function levelDbFiles(location: string): Promise<string[]> {
  try {
    return (await fs.readdir(location)).filter(isLevelDbFile).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Every problem found in the database directory `location` (empty: nothing LevelDB would silently skip). */
export async function verifyLevelDbFiles(location: string): Promise<FileDamage[]> {
  const names = await levelDbFiles(location);
  const damage: FileDamage[] = [];
  const file = (name: string): string => path.join(location, name);
  // Only files the current version uses are checked: a table a compaction was writing when the
  // database closed, or a log already folded into a table, is not in it and LevelDB deletes it.
  let live: LiveFiles | undefined;
  if (!names.includes('CURRENT')) {
    damage.push({ file: file('CURRENT'), problem: 'missing: without it LevelDB would start an empty database beside the existing files' });
  } else {
    const manifest = (await fs.readFile(file('CURRENT'), 'utf8')).trim();
    if (!/^MANIFEST-\d+$/.test(manifest)) damage.push({ file: file('CURRENT'), problem: 'does not name a MANIFEST file' });
    else if (!names.includes(manifest)) damage.push({ file: file(manifest), problem: 'missing (named by CURRENT)' });
    else {
      const { records, problem } = readLogRecords(await fs.readFile(file(manifest)));
      if (problem) damage.push({ file: file(manifest), problem });
      else {
        try {
          live = liveFiles(records);
        } catch (error) {
          damage.push({ file: file(manifest), problem: (error as Error).message });
        }
      }
    }
  }
  for (const name of names) {
    const number = Number(name.slice(0, name.indexOf('.')));
    let problem: string | undefined;
    if (name.endsWith('.log')) {
      if (live && number < live.logNumber && number !== live.prevLogNumber) continue;
      problem = verifyLogRecords(await fs.readFile(file(name)));
    } else if (name.endsWith('.ldb') || name.endsWith('.sst')) {
      if (live && !live.tables.has(number)) continue;
      const table = await fs.readFile(file(name));
      const expected = live?.tables.get(number);
      problem = expected !== undefined && expected !== table.length
        ? `${table.length} bytes, the MANIFEST records ${expected} (truncated or overwritten)`
        : verifyTable(table);
    }
    if (problem) damage.push({ file: file(name), problem });
  }
  if (live) {
    for (const number of live.tables.keys()) {
      const stem = String(number).padStart(6, '0');
      if (!names.includes(`${stem}.ldb`) && !names.includes(`${stem}.sst`)) damage.push({ file: file(`${stem}.ldb`), problem: 'missing (listed in the MANIFEST)' });
    }
  }
  return damage;
}

/** Corruption LevelDB reported in its LOG while opening (it drops what it cannot read and carries on). */
export async function corruptionReportedInLog(location: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(location, 'LOG'), 'utf8');
  } catch {
    return undefined;
  }
  return text.split('\n').find((line) => /Corruption|dropping \d+ bytes/.test(line))?.trim();
}

function unmask(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

/** The first problem in a log-format file (write-ahead log or MANIFEST), or undefined. */
export function verifyLogRecords(data: Buffer): string | undefined {
  return readLogRecords(data).problem;
}

/** The records of a log-format file, reassembled from their fragments, up to the first problem. */
export function readLogRecords(data: Buffer): { records: Buffer[]; problem?: string } {
  const records: Buffer[] = [];
  let parts: Buffer[] = [];
  const fail = (problem: string) => ({ records, problem });
  let offset = 0;
  let fragmented = false;
  while (offset < data.length) {
    const blockLeft = LOG_BLOCK - (offset % LOG_BLOCK);
    if (blockLeft < LOG_HEADER) {
      offset += blockLeft; // the block's zero trailer
      continue;
    }
    // The file ends inside a header or a record: the writer stopped mid-append (see the top).
    if (offset + LOG_HEADER > data.length) return { records };
    const length = data.readUInt16LE(offset + 4);
    const type = data[offset + 6];
    if (type === RecordType.Zero && length === 0) {
      offset += blockLeft; // preallocated space LevelDB skips
      continue;
    }
    if (offset + LOG_HEADER + length > data.length) return { records };
    if (LOG_HEADER + length > blockLeft) return fail(`bad record length at byte ${offset}`);
    const stored = unmask(data.readUInt32LE(offset));
    const actual = crc32c(data.subarray(offset + 6, offset + LOG_HEADER + length)) >>> 0;
    if (stored !== actual) return fail(`checksum mismatch in the record at byte ${offset} (LevelDB would drop the rest of its 32 KiB block)`);
    const payload = data.subarray(offset + LOG_HEADER, offset + LOG_HEADER + length);
    if (type === RecordType.Full || type === RecordType.First) {
      if (fragmented) return fail(`a record started at byte ${offset} before the previous one ended`);
      fragmented = type === RecordType.First;
      parts = [payload];
    } else if (type === RecordType.Middle || type === RecordType.Last) {
      if (!fragmented) return fail(`a record fragment at byte ${offset} has no beginning`);
      fragmented = type === RecordType.Middle;
      parts.push(payload);
    } else {
      return fail(`unknown record type ${type} at byte ${offset}`);
    }
    if (!fragmented) records.push(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    offset += LOG_HEADER + length;
  }
  return { records };
}

/** The files the MANIFEST's versions leave live: tables (with their sizes) and the oldest log still needed. */
export interface LiveFiles {
  tables: Map<number, number>;
  logNumber: number;
  prevLogNumber: number;
}

/** Replays the MANIFEST's version edits (LevelDB's db/version_edit.cc encoding). */
export function liveFiles(records: Buffer[]): LiveFiles {
  const live: LiveFiles = { tables: new Map(), logNumber: 0, prevLogNumber: 0 };
  for (const record of records) {
    let at = 0;
    const varint = (): number => {
      const [value, next] = readVarint(record, at);
      at = next;
      return value;
    };
    const skipSlice = (): void => {
      const length = varint();
      at += length;
    };
    while (at < record.length) {
      const tag = varint();
      switch (tag) {
        case 1: skipSlice(); break; // comparator
        case 2: live.logNumber = varint(); break;
        case 3: varint(); break; // next file number
        case 4: varint(); break; // last sequence
        case 5: varint(); skipSlice(); break; // compact pointer
        case 6: varint(); live.tables.delete(varint()); break; // deleted file
        case 7: { // new file: level, number, size, smallest, largest
          varint();
          const number = varint();
          const size = varint();
          skipSlice();
          skipSlice();
          live.tables.set(number, size);
          break;
        }
        case 9: live.prevLogNumber = varint(); break;
        default: throw new Error(`unknown MANIFEST tag ${tag}`);
      }
    }
  }
  return live;
}

function readVarint(buffer: Buffer, start: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let at = start; at < buffer.length && at < start + 10; at++) {
    const byte = buffer[at];
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, at + 1];
    scale *= 128;
  }
  throw new Error('truncated varint');
}

interface BlockHandle { offset: number; size: number }

function readHandle(buffer: Buffer, start: number): [BlockHandle, number] {
  const [offset, afterOffset] = readVarint(buffer, start);
  const [size, next] = readVarint(buffer, afterOffset);
  return [{ offset, size }, next];
}

/** A block's contents after checking its CRC (decompressed when `decode`); throws with the problem. */
function readBlock(table: Buffer, handle: BlockHandle, decode: boolean): Buffer | undefined {
  const end = handle.offset + handle.size;
  if (end + BLOCK_TRAILER > table.length) throw new Error(`block at byte ${handle.offset} extends past the end of the file`);
  const stored = unmask(table.readUInt32LE(end + 1));
  const actual = crc32c(table.subarray(handle.offset, end + 1)) >>> 0;
  if (stored !== actual) throw new Error(`checksum mismatch in the block at byte ${handle.offset}`);
  if (!decode) return undefined;
  const contents = table.subarray(handle.offset, end);
  const compression = table[end];
  if (compression === 0) return contents;
  if (compression === 1) return uncompress(contents);
  throw new Error(`unknown compression ${compression} of the block at byte ${handle.offset}`);
}

/** The values of a block's entries (for an index block: the handles of the data blocks). */
function blockValues(block: Buffer): Buffer[] {
  const restarts = block.readUInt32LE(block.length - 4);
  const end = block.length - 4 - 4 * restarts;
  if (end < 0) throw new Error('bad restart array');
  const values: Buffer[] = [];
  let at = 0;
  while (at < end) {
    const [, afterShared] = readVarint(block, at);
    const [unshared, afterUnshared] = readVarint(block, afterShared);
    const [valueLength, afterLengths] = readVarint(block, afterUnshared);
    const valueStart = afterLengths + unshared;
    if (valueStart + valueLength > end) throw new Error('entry past the end of the block');
    values.push(block.subarray(valueStart, valueStart + valueLength));
    at = valueStart + valueLength;
  }
  return values;
}

/** The first problem in a table file (.ldb/.sst): footer, index and metaindex blocks, every data block. */
export function verifyTable(table: Buffer): string | undefined {
  if (table.length < TABLE_FOOTER) return 'shorter than a table footer (truncated)';
  const footer = table.subarray(table.length - TABLE_FOOTER);
  if (footer.readUInt32LE(40) !== 0x8b80fb57 || footer.readUInt32LE(44) !== 0xdb477524) return 'bad table magic number (not a table, or truncated)';
  try {
    const [metaindex, afterMeta] = readHandle(footer, 0);
    const [index] = readHandle(footer, afterMeta);
    readBlock(table, metaindex, false);
    const indexBlock = readBlock(table, index, true) as Buffer;
    for (const value of blockValues(indexBlock)) readBlock(table, readHandle(value, 0)[0], false);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
