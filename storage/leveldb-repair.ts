// `kubefacade repair --data-dir D`: salvages what is intact in a damaged LevelDB store and says what
// was lost. LevelDB's own repairer (RepairDB, classic-level's ClassicLevel.repair) rebuilds the
// MANIFEST and CURRENT from every table and log it can read, skipping damaged records and moving
// unusable files to `lost/`. Then every object is parsed; those that do not parse are removed and
// saved beside the store. Lost writes are counted from the acknowledged revision kept outside the
// database.
//
// The revision restarts at the high-water mark (leveldb-revision-marks.ts), above every revision
// ever handed out, so no resourceVersion a client has seen is reused; and everything before it is
// marked compacted, so a watch from an old resourceVersion gets 410 Gone and its informer relists
// (what `etcdutl snapshot restore --bump-revision --mark-compacted` does for etcd).

import fs from 'node:fs';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { META_COMPACTED, META_REVISION, dataRange, decodeLogHeader, decodeStoredValue, logKey, revisionOfLogKey, storageKeyOf } from './leveldb-layout.ts';
import { levelDbFiles, verifyLevelDbFiles, type FileDamage } from './leveldb-integrity.ts';
import { createLevel, databaseLocation, newestLogRevision } from './leveldb-open.ts';
import { ACKNOWLEDGED_FILE, DAMAGED_FILE, HIGH_WATER_FILE, REVISION_BLOCK, readMark, writeMarkDurably } from './leveldb-revision-marks.ts';
import type { AbstractBatchOptions } from 'abstract-level';
import type { StringLevel } from './leveldb-list.ts';

export interface UnparseableObject {
  key: string;
  reason: string;
}

export interface RepairReport {
  dataDir: string;
  /** What the file checks found before repairing. */
  damageFound: FileDamage[];
  /** Objects per resource before the repair, when the store could still be opened (undefined otherwise). */
  objectsBefore?: Record<string, number>;
  /** Objects per resource after it. */
  objectsAfter: Record<string, number>;
  /** The store's revision after LevelDB's repair, before the restart revision is set. */
  recoveredRevision: number;
  /** The last revision acknowledged to clients (undefined when not recorded). */
  acknowledgedRevision?: number;
  /** Acknowledged revisions (writes) whose records did not survive. */
  lostRevisions: number;
  /** Keys the change log says exist whose objects were unreadable (lost with a damaged block). */
  lostKeys: string[];
  /** Errors LevelDB reported while the entries were read (damaged blocks it skipped). */
  readErrors: string[];
  /** The damaged directory, renamed and kept for inspection (delete it once satisfied). */
  keptAside: string;
  /** Objects removed because they no longer parse; saved in `salvageFile`. */
  unparseable: UnparseableObject[];
  salvageFile?: string;
  /** Files LevelDB's repairer could not use (moved to db/lost). */
  lostFiles: string[];
  /** The first revision written after the repair is restartRevision + 1. */
  restartRevision: number;
  /** How the restart revision was chosen. */
  restartBasis: string;
}

/** `/registry/pods/ns/name` → `pods`: the resource segment of a storage key. */
function resourceOf(key: string): string {
  return key.split('/')[2] ?? key;
}

async function countObjects(db: StringLevel): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const key of db.keys(dataRange(''))) {
    const resource = resourceOf(storageKeyOf(key));
    counts[resource] = (counts[resource] ?? 0) + 1;
  }
  return counts;
}

function objectProblem(json: string, key: string): string | undefined {
  let object: unknown;
  try {
    object = JSON.parse(json);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  const metadata = (object as { metadata?: { name?: unknown } } | null)?.metadata;
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return 'not an object';
  if (typeof metadata?.name !== 'string' || !key.endsWith(`/${metadata.name}`)) return 'metadata.name does not match the key';
  return undefined;
}

export async function repairLevelDb(dataDir: string): Promise<RepairReport> {
  const location = databaseLocation(dataDir);
  const rebuilt = `${location}.repaired`;
  // A repair killed between moving the damaged directory aside and moving the rebuilt one in left
  // a complete rebuilt store (it is closed before either move): finish the swap.
  if (!fs.existsSync(location) && fs.existsSync(rebuilt)) fs.renameSync(rebuilt, location);
  const damageFound = await verifyLevelDbFiles(location);
  const recorded = path.join(dataDir, DAMAGED_FILE);
  if (fs.existsSync(recorded)) {
    for (const line of fs.readFileSync(recorded, 'utf8').split('\n').filter(Boolean)) damageFound.push({ file: recorded, problem: `found at an earlier start: ${line}` });
  }
  if ((await levelDbFiles(location)).length === 0) {
    // The whole database is gone. With no revision mark either there was never a store here;
    // otherwise an empty store is made that still never reuses a resourceVersion.
    if (readMark(path.join(dataDir, HIGH_WATER_FILE)).state === 'absent') throw new Error(`there is no store to repair in ${location}`);
    fs.mkdirSync(location, { recursive: true });
    const empty = createLevel(location, true);
    await empty.open();
    await empty.close();
  }

  // A running server holds LevelDB's lock; repairing under it would corrupt what it writes.
  let objectsBefore: Record<string, number> | undefined;
  const probe = createLevel(location, false);
  try {
    await probe.open();
    objectsBefore = await countObjects(probe);
  } catch (error) {
    const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    if (/lock/i.test(cause)) throw new Error(`${location} is in use (${cause}): stop the server first`);
  } finally {
    await probe.close().catch(() => undefined);
  }

  const lostDir = path.join(location, 'lost');
  const lostBefore = new Set(fs.existsSync(lostDir) ? fs.readdirSync(lostDir) : []);
  await ClassicLevel.repair(location);
  const lostFiles = (fs.existsSync(lostDir) ? fs.readdirSync(lostDir) : []).filter((name) => !lostBefore.has(name)).map((name) => path.join(lostDir, name));

  // LevelDB's repairer reads tables without verifying checksums, so a damaged block it can still
  // decode stays as it is. Every entry is therefore copied into a new database (fresh tables,
  // fresh checksums), objects checked on the way; the old directory is kept aside.
  fs.rmSync(rebuilt, { recursive: true, force: true });
  const source = createLevel(location, false);
  const target = createLevel(rebuilt, true);
  await source.open();
  await target.open();
  const unparseable: UnparseableObject[] = [];
  const salvage: string[] = [];
  const readErrors: string[] = [];
  let recoveredRevision = 0;
  let highestFound = 0;
  const logState = new Map<string, string>();
  const copied = new Set<string>();
  try {
    recoveredRevision = Number((await source.get(META_REVISION).catch(() => undefined)) ?? 0);
    highestFound = Math.max(recoveredRevision, await newestLogRevision(source).catch(() => 0));
    // Which keys the change log says exist: a key whose last record is not a deletion but whose
    // object is gone was lost with a damaged block.
    try {
      for await (const [key, record] of source.iterator({ gte: logKey(0), lte: logKey(Number.MAX_SAFE_INTEGER) })) {
        highestFound = Math.max(highestFound, revisionOfLogKey(key));
        const header = decodeLogHeader(record);
        logState.set(header.key, header.type);
      }
    } catch (error) {
      readErrors.push(`change log: ${(error as Error).message}`);
    }
    let pending: { type: 'put'; key: string; value: string }[] = [];
    try {
      for await (const [key, raw] of source.iterator(dataRange(''))) {
        const storageKey = storageKeyOf(key);
        const space = raw.indexOf(' ');
        const { revision, json } = decodeStoredValue(raw);
        const problem = space < 0 || !Number.isSafeInteger(revision) ? 'no revision header' : objectProblem(json, storageKey);
        if (problem) {
          unparseable.push({ key: storageKey, reason: problem });
          salvage.push(JSON.stringify({ key: storageKey, reason: problem, value: raw }));
          continue;
        }
        highestFound = Math.max(highestFound, revision);
        copied.add(storageKey);
        pending.push({ type: 'put', key, value: raw });
        if (pending.length >= 1000) {
          await target.batch(pending);
          pending = [];
        }
      }
    } catch (error) {
      readErrors.push(`objects: ${(error as Error).message}`);
    }
    if (pending.length > 0) await target.batch(pending);
  } finally {
    await source.close();
  }
  const lostKeys = [...logState].filter(([key, type]) => type !== 'DELETED' && !copied.has(key) && !unparseable.some((u) => u.key === key)).map(([key]) => key);

  let salvageFile: string | undefined;
  if (unparseable.length > 0) {
    salvageFile = path.join(dataDir, `repair-${new Date().toISOString().replace(/[:.]/g, '-')}-unparseable.jsonl`);
    fs.writeFileSync(salvageFile, salvage.join('\n') + '\n', { mode: 0o600 });
  }

  const highWater = readMark(path.join(dataDir, HIGH_WATER_FILE));
  const acknowledged = readMark(path.join(dataDir, ACKNOWLEDGED_FILE));
  const acknowledgedRevision = acknowledged.state === 'ok' ? acknowledged.revision : undefined;
  let restartRevision: number;
  let restartBasis: string;
  if (highWater.state === 'ok' && highWater.revision >= Math.max(highestFound, acknowledgedRevision ?? 0)) {
    restartRevision = highWater.revision;
    restartBasis = `the high-water mark in ${HIGH_WATER_FILE}: no revision above ${highWater.revision} was ever handed out`;
  } else {
    // Without a trustworthy mark, a whole block above anything known is the best guess.
    restartRevision = Math.max(highestFound, acknowledgedRevision ?? 0) + REVISION_BLOCK;
    restartBasis = `no usable ${HIGH_WATER_FILE} (${highWater.state}): ${REVISION_BLOCK} above the highest revision found (${highestFound})`;
  }
  // No change log is carried over: history before the restart revision is compacted.
  await target.batch([
    { type: 'put', key: META_REVISION, value: String(restartRevision) },
    { type: 'put', key: META_COMPACTED, value: String(restartRevision) },
  ], { sync: true } as AbstractBatchOptions<string, string>);
  const objectsAfter = await countObjects(target);
  await target.close();

  const keptAside = `${location}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  fs.renameSync(location, keptAside);
  fs.renameSync(rebuilt, location);
  writeMarkDurably(path.join(dataDir, HIGH_WATER_FILE), restartRevision + REVISION_BLOCK);
  writeMarkDurably(path.join(dataDir, ACKNOWLEDGED_FILE), restartRevision);
  fs.rmSync(path.join(dataDir, DAMAGED_FILE), { force: true });
  return {
    dataDir, damageFound, objectsBefore, objectsAfter, recoveredRevision, acknowledgedRevision,
    lostRevisions: acknowledgedRevision !== undefined ? Math.max(0, acknowledgedRevision - recoveredRevision) : 0,
    lostKeys, readErrors, unparseable, salvageFile, restartRevision, restartBasis, keptAside,
    // LevelDB moved them into db/lost, which is now inside the kept directory.
    lostFiles: lostFiles.map((file) => path.join(keptAside, path.relative(location, file))),
  };
}

/** The report as the command prints it. */
export function formatRepairReport(report: RepairReport): string {
  const lines: string[] = [`repaired the store in ${report.dataDir}`];
  if (report.damageFound.length === 0) lines.push('damage found by the file checks: none');
  else for (const damage of report.damageFound) lines.push(`damage found: ${damage.file}: ${damage.problem}`);
  const resources = new Set([...Object.keys(report.objectsBefore ?? {}), ...Object.keys(report.objectsAfter)]);
  for (const resource of [...resources].sort()) {
    const after = report.objectsAfter[resource] ?? 0;
    const before = report.objectsBefore?.[resource];
    lines.push(before === undefined ? `  ${resource}: ${after} objects` : `  ${resource}: ${after} objects (${before} readable before the repair${before > after ? `, ${before - after} lost by it` : ''})`);
  }
  if (!report.objectsBefore) lines.push('  (counts before the repair unknown: the store could not be opened)');
  if (report.acknowledgedRevision === undefined) lines.push('acknowledged writes lost: unknown (no acknowledged revision recorded)');
  else lines.push(`acknowledged writes lost: ${report.lostRevisions} (acknowledged up to revision ${report.acknowledgedRevision}, recovered up to ${report.recoveredRevision})`);
  lines.push(`objects removed because they do not parse: ${report.unparseable.length}`);
  for (const item of report.unparseable.slice(0, 50)) lines.push(`  ${item.key}: ${item.reason}`);
  if (report.unparseable.length > 50) lines.push(`  ... and ${report.unparseable.length - 50} more`);
  if (report.salvageFile) lines.push(`  their stored bytes are saved in ${report.salvageFile}`);
  for (const file of report.lostFiles) lines.push(`unusable file moved aside by LevelDB: ${file}`);
  for (const error of report.readErrors) lines.push(`LevelDB reported while reading (damaged data skipped): ${error}`);
  if (report.lostKeys.length > 0) {
    lines.push(`objects lost with damaged data (named by the change log): ${report.lostKeys.length}`);
    for (const key of report.lostKeys.slice(0, 50)) lines.push(`  ${key}`);
  }
  lines.push(`the damaged directory is kept as ${report.keptAside} (delete it once satisfied)`);
  lines.push(`resourceVersions restart above ${report.restartRevision} (${report.restartBasis}); older ones are compacted, so clients relist`);
  return lines.join('\n');
}
