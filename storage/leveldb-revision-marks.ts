// Two revision marks kept beside the LevelDB store, outside it, so that damage to the database
// cannot move them back:
//  - the high-water mark (`storage-high-water`): no revision above it was ever handed out. It is
//    raised in blocks, fsynced before the first revision of a block is committed, so it costs one
//    fsync per REVISION_BLOCK revisions. A repair restarts the revision above it, so no
//    resourceVersion an informer has seen is ever handed out again.
//  - the acknowledged revision (`storage-acknowledged`): the last revision a caller was told is
//    durable, overwritten in place after every committed batch (no fsync of its own: a SIGKILL keeps
//    what the page cache has; after a power loss it may be older, never newer). Opening a store
//    whose revision is below it means acknowledged writes are gone (a truncated write-ahead log).

import fs from 'node:fs';
import path from 'node:path';

/** Revisions handed out per fsync of the high-water mark. */
export const REVISION_BLOCK = 10_000;
export const HIGH_WATER_FILE = 'storage-high-water';
export const ACKNOWLEDGED_FILE = 'storage-acknowledged';
/** Written when damage is found after LevelDB has opened (it may have rewritten the evidence); removed by repair. */
export const DAMAGED_FILE = 'storage-damaged';
const SLOT_BYTES = 24;

export type MarkReading = { state: 'absent' } | { state: 'ok'; revision: number } | { state: 'unreadable'; text: string };

export function readMark(file: string): MarkReading {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    throw error;
  }
  const match = /^(\d+)\s*$/.exec(text.replace(/\0+$/, ''));
  return match ? { state: 'ok', revision: Number(match[1]) } : { state: 'unreadable', text: text.slice(0, 40) };
}

function encode(revision: number): Buffer {
  return Buffer.from(`${revision}\n`.padEnd(SLOT_BYTES, ' '));
}

/** Replaces `file` atomically and durably: written to a temporary file, fsynced, renamed, directory fsynced. */
export function writeMarkDurably(file: string, revision: number): void {
  const temporary = `${file}.tmp`;
  const fd = fs.openSync(temporary, 'w', 0o600);
  try {
    fs.writeSync(fd, encode(revision));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  const dir = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

export class RevisionMarks {
  private acknowledgedFd: number | undefined;

  private constructor(private readonly dataDir: string, private highWater: number) {}

  /** `highWater`: the mark already on disk (callers checked it), or the revision to start a new one from. */
  static open(dataDir: string, highWater: number, onDisk: boolean): RevisionMarks {
    const marks = new RevisionMarks(dataDir, highWater);
    if (!onDisk) {
      marks.highWater = highWater + REVISION_BLOCK;
      writeMarkDurably(path.join(dataDir, HIGH_WATER_FILE), marks.highWater);
    }
    return marks;
  }

  get highWaterRevision(): number {
    return this.highWater;
  }

  /** Called before a batch up to `revision` is committed: raises the mark first when the batch goes past it. */
  allocate(revision: number): void {
    if (revision <= this.highWater) return;
    const next = revision + REVISION_BLOCK;
    writeMarkDurably(path.join(this.dataDir, HIGH_WATER_FILE), next);
    this.highWater = next;
  }

  /** Called once the batch ending at `revision` is durable, before it is acknowledged. */
  acknowledge(revision: number): void {
    if (this.acknowledgedFd === undefined) this.acknowledgedFd = fs.openSync(path.join(this.dataDir, ACKNOWLEDGED_FILE), fs.existsSync(path.join(this.dataDir, ACKNOWLEDGED_FILE)) ? 'r+' : 'w', 0o600);
    fs.writeSync(this.acknowledgedFd, encode(revision), 0, SLOT_BYTES, 0);
  }

  /** A clean close makes the acknowledged revision durable too. */
  close(): void {
    if (this.acknowledgedFd === undefined) return;
    try {
      fs.fsyncSync(this.acknowledgedFd);
    } finally {
      fs.closeSync(this.acknowledgedFd);
      this.acknowledgedFd = undefined;
    }
  }
}
