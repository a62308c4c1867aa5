// Opening the LevelDB store only when it is whole. Before LevelDB touches the directory, its files
// are verified (leveldb-integrity.ts); a directory that held a store is never opened with
// createIfMissing, and a new one is created with errorIfExists. Once open, three more checks:
// the revision counter against the newest change-log record, the acknowledged revision kept outside
// the database against the store's revision (a write-ahead log cut short loses whole records
// silently), and LevelDB's own LOG for corruption it skipped. Damage found after opening is written
// to `storage-damaged`, because LevelDB may already have rewritten the evidence: every later start
// refuses too, until `kubefacade repair`.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { META_COMPACTED, META_REVISION, logKey, revisionOfLogKey } from './leveldb-layout.ts';
import type { StringLevel } from './leveldb-list.ts';
import { StorageDamagedError, corruptionReportedInLog, levelDbFiles, verifyLevelDbFiles, type FileDamage } from './leveldb-integrity.ts';
import { ACKNOWLEDGED_FILE, DAMAGED_FILE, HIGH_WATER_FILE, RevisionMarks, readMark } from './leveldb-revision-marks.ts';

export interface OpenedStore {
  db: StringLevel;
  location: string;
  revision: number;
  compactedRevision: number;
  marks: RevisionMarks;
}

export function databaseLocation(dataDir: string): string {
  return path.join(dataDir, 'db');
}

// classic-level (CommonJS with a native addon) is loaded on the first on-disk store: a process on
// memory storage (the library's default, `--storage memory`) or on etcd never loads it.
const requireModule = createRequire(import.meta.url);
let classicLevel: typeof import('classic-level') | undefined;

export function createLevel(location: string, create: boolean): StringLevel {
  classicLevel ??= requireModule('classic-level') as typeof import('classic-level');
  return new classicLevel.ClassicLevel<string, string>(location, {
    keyEncoding: 'utf8', valueEncoding: 'utf8', createIfMissing: create, errorIfExists: create,
  });
}

/** The revision of the newest change-log record (0 when there is none). */
export async function newestLogRevision(db: StringLevel): Promise<number> {
  const keys = await db.keys({ gte: logKey(0), lte: logKey(Number.MAX_SAFE_INTEGER), reverse: true, limit: 1 }).all();
  return keys.length === 0 ? 0 : revisionOfLogKey(keys[0]);
}

export async function openVerifiedStore(dataDir: string): Promise<OpenedStore> {
  const location = databaseLocation(dataDir);
  const damagedFile = path.join(dataDir, DAMAGED_FILE);
  if (fs.existsSync(damagedFile)) {
    throw new StorageDamagedError(dataDir, [{ file: damagedFile, problem: `damage found at an earlier start: ${fs.readFileSync(damagedFile, 'utf8').trim()}` }]);
  }
  const highWaterFile = path.join(dataDir, HIGH_WATER_FILE);
  const highWater = readMark(highWaterFile);
  const acknowledged = readMark(path.join(dataDir, ACKNOWLEDGED_FILE));
  const files = await levelDbFiles(location);
  const existing = files.length > 0 || highWater.state !== 'absent';
  if (existing) {
    const damage = files.length === 0
      ? [{ file: location, problem: `the database is gone, yet ${highWaterFile} shows revisions were handed out` }]
      : await verifyLevelDbFiles(location);
    if (highWater.state === 'unreadable') damage.push({ file: highWaterFile, problem: `unreadable (${JSON.stringify(highWater.text)})` });
    if (damage.length > 0) throw new StorageDamagedError(dataDir, damage);
  }
  fs.mkdirSync(location, { recursive: true });
  const db = createLevel(location, !existing);
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    if (/Corruption|does not exist|Invalid argument/i.test(cause)) throw new StorageDamagedError(dataDir, [{ file: location, problem: `LevelDB cannot open it: ${cause}` }]);
    throw error;
  }
  try {
    const [revisionText, compactedText] = await db.getMany([META_REVISION, META_COMPACTED]);
    const revision = revisionText ? Number(revisionText) : 0;
    const problems: FileDamage[] = [];
    const newest = await newestLogRevision(db);
    if (newest > revision) problems.push({ file: location, problem: `the revision counter (${revision}) is behind the highest stored revision (${newest})` });
    if (acknowledged.state === 'ok' && acknowledged.revision > revision) {
      const logs = files.filter((name) => name.endsWith('.log'));
      problems.push({
        file: path.join(location, logs.at(-1) ?? ''),
        problem: `revisions up to ${acknowledged.revision} were acknowledged to clients but the store ends at revision ${revision}: ${acknowledged.revision - revision} acknowledged writes are missing (a write-ahead log cut short)`,
      });
    }
    const reported = await corruptionReportedInLog(location);
    if (reported) problems.push({ file: path.join(location, 'LOG'), problem: `LevelDB skipped damaged data while opening: ${reported}` });
    if (problems.length > 0) {
      fs.writeFileSync(damagedFile, problems.map((p) => `${p.file}: ${p.problem}`).join('\n') + '\n');
      throw new StorageDamagedError(dataDir, problems);
    }
    // A high-water mark below the store's revision was not written by this store (restored from
    // elsewhere): start a new one above the revision rather than trust it.
    const trusted = highWater.state === 'ok' && highWater.revision >= revision;
    const marks = RevisionMarks.open(dataDir, trusted ? highWater.revision : revision, trusted);
    return { db, location, revision, compactedRevision: compactedText ? Number(compactedText) : 0, marks };
  } catch (error) {
    await db.close();
    throw error;
  }
}
