// Fault injection: damaged LevelDB files. Each scenario writes acknowledged creates through the
// store, stops it, damages a file as the original report did (CURRENT deleted, the newest
// write-ahead log cut to half, random bytes in the log, a flipped byte in a table), and asserts:
// the store refuses to open with a message naming the file and `kubefacade repair --data-dir`; a
// refusal is not forgotten by the next start; repair salvages what is intact, reports what was
// lost, and the next resourceVersion is above every one ever acknowledged. Scenarios LevelDB can
// fully recover from (CURRENT, table-independent log damage) must lose nothing.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ClassicLevel } from 'classic-level';
import { LevelDbStorage } from '../storage/leveldb.ts';
import { StorageDamagedError } from '../storage/leveldb-integrity.ts';
import { repairLevelDb, formatRepairReport } from '../storage/leveldb-repair.ts';
import type { KubeObject } from '../api/object.ts';
import { REPO_ROOT } from './helpers/server-process.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubefacade-damage-'));
  dirs.push(dir);
  return dir;
}

function pod(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as KubeObject;
}

/** Creates `count` pods; returns name → acknowledged resourceVersion. */
async function populate(dataDir: string, count: number, prefix = 'p'): Promise<Map<string, number>> {
  const storage = await LevelDbStorage.open(dataDir);
  const acked = new Map<string, number>();
  try {
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      const name = `${prefix}${String(i).padStart(4, '0')}`;
      const created = await storage.create(`/registry/pods/default/${name}`, pod(name));
      acked.set(name, Number(created.metadata.resourceVersion));
    }));
  } finally {
    await storage.close();
  }
  return acked;
}

function newestLog(dataDir: string): string {
  const logs = fs.readdirSync(path.join(dataDir, 'db')).filter((n) => n.endsWith('.log')).sort();
  assert.ok(logs.length > 0, 'the store has a write-ahead log');
  return path.join(dataDir, 'db', logs.at(-1)!);
}

async function refusal(dataDir: string): Promise<StorageDamagedError> {
  try {
    const storage = await LevelDbStorage.open(dataDir);
    await storage.close();
  } catch (error) {
    assert.ok(error instanceof StorageDamagedError, `expected StorageDamagedError, got ${String(error)}`);
    assert.match(error.message, new RegExp(`kubefacade repair --data-dir ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    return error;
  }
  assert.fail('the damaged store opened');
}

/** Repairs, reopens, checks every surviving object parses and the next write is above everything acknowledged. */
async function repairAndCheck(dataDir: string, acked: Map<string, number>): Promise<{ survivors: Set<string>; report: Awaited<ReturnType<typeof repairLevelDb>> }> {
  const report = await repairLevelDb(dataDir);
  const text = formatRepairReport(report);
  assert.match(text, /acknowledged writes lost: \d+/);
  assert.match(text, /resourceVersions restart above \d+/);
  const storage = await LevelDbStorage.open(dataDir);
  try {
    const list = await storage.list('/registry/pods/');
    const survivors = new Set(list.items.map((item) => item.metadata.name as string));
    for (const item of list.items) assert.equal(Number(item.metadata.resourceVersion), acked.get(item.metadata.name as string), 'a survivor keeps its resourceVersion');
    const highest = Math.max(...acked.values());
    const next = await storage.create('/registry/pods/default/after-repair', pod('after-repair'));
    assert.ok(Number(next.metadata.resourceVersion) > highest, `resourceVersion ${next.metadata.resourceVersion} reused (highest acknowledged ${highest})`);
    assert.equal(report.lostRevisions, report.acknowledgedRevision! - report.recoveredRevision);
    return { survivors, report };
  } finally {
    await storage.close();
  }
}

describe('damaged storage', () => {
  test('a deleted CURRENT is refused, and repair recovers every acknowledged object', async () => {
    const dataDir = tempDataDir();
    const acked = await populate(dataDir, 300);
    fs.rmSync(path.join(dataDir, 'db', 'CURRENT'));
    const error = await refusal(dataDir);
    assert.match(error.message, /db\/CURRENT: missing/);
    const { survivors, report } = await repairAndCheck(dataDir, acked);
    assert.equal(survivors.size, 300, 'nothing is lost when only CURRENT is gone');
    assert.equal(report.lostRevisions, 0);
  });

  test('a write-ahead log cut to half after acknowledged creates is refused, also at the next start; repair reports the loss and reuses no resourceVersion', async () => {
    const dataDir = tempDataDir();
    const acked = await populate(dataDir, 300);
    const log = newestLog(dataDir);
    fs.truncateSync(log, Math.floor(fs.statSync(log).size / 2));
    const error = await refusal(dataDir);
    assert.match(error.message, /acknowledged/);
    assert.match(error.message, /\.log/);
    // LevelDB rewrote the log while opening; the refusal must still stand.
    const again = await refusal(dataDir);
    assert.match(again.message, /storage-damaged/);
    const { survivors, report } = await repairAndCheck(dataDir, acked);
    assert.ok(report.lostRevisions > 0, 'the loss is reported');
    assert.equal(survivors.size, 300 - report.lostRevisions, 'the report counts exactly the lost creates');
  });

  test('random bytes in the write-ahead log are refused before LevelDB drops anything', async () => {
    const dataDir = tempDataDir();
    const acked = await populate(dataDir, 300);
    const log = newestLog(dataDir);
    const bytes = fs.readFileSync(log);
    const at = Math.floor(bytes.length / 3);
    for (let i = 0; i < 200; i++) bytes[at + i] = (bytes[at + i] + 1 + (i * 37) % 255) & 0xff;
    fs.writeFileSync(log, bytes);
    const error = await refusal(dataDir);
    assert.match(error.message, /\.log: checksum mismatch/);
    const { survivors, report } = await repairAndCheck(dataDir, acked);
    assert.equal(survivors.size + report.lostRevisions, 300);
  });

  test('a damaged table file is refused, and repair moves what it cannot read aside', async () => {
    const dataDir = tempDataDir();
    const acked = await populate(dataDir, 300);
    // Move everything into tables, as LevelDB does once the write buffer fills.
    const raw = new ClassicLevel(path.join(dataDir, 'db'));
    await raw.open();
    await raw.compactRange('\x00', '\xff');
    await raw.close();
    const table = fs.readdirSync(path.join(dataDir, 'db')).find((n) => n.endsWith('.ldb'));
    assert.ok(table, 'compaction wrote a table');
    const file = path.join(dataDir, 'db', table);
    const bytes = fs.readFileSync(file);
    bytes[100] ^= 0x55;
    fs.writeFileSync(file, bytes);
    const error = await refusal(dataDir);
    assert.match(error.message, new RegExp(`${table}: checksum mismatch`));
    const { survivors, report } = await repairAndCheck(dataDir, acked);
    // Every acknowledged pod is either served again or named in the report.
    const named = new Set([...report.lostKeys, ...report.unparseable.map((u) => u.key)].map((key) => key.split('/').at(-1)));
    for (const name of acked.keys()) assert.ok(survivors.has(name) || named.has(name), `${name} vanished without being reported`);
    assert.match(formatRepairReport(report), /damaged directory is kept/);
  });

  test('a revision counter behind the highest stored revision is refused', async () => {
    const dataDir = tempDataDir();
    const acked = await populate(dataDir, 20);
    const raw = new ClassicLevel<string, string>(path.join(dataDir, 'db'));
    await raw.open();
    await raw.put('m:revision', '5', { sync: true });
    await raw.close();
    const error = await refusal(dataDir);
    assert.match(error.message, /revision counter \(5\) is behind the highest stored revision/);
    await repairAndCheck(dataDir, acked);
  });

  test('a half-written table LevelDB does not use (a compaction cut short by close) is not damage', async () => {
    const dataDir = tempDataDir();
    const acked = await populate(dataDir, 20);
    fs.writeFileSync(path.join(dataDir, 'db', '999999.ldb'), Buffer.alloc(5000, 7));
    const storage = await LevelDbStorage.open(dataDir);
    try {
      assert.equal((await storage.list('/registry/pods/')).items.length, acked.size);
    } finally {
      await storage.close();
    }
  });

  test('a deleted database directory is refused; repair starts an empty store above every resourceVersion handed out', async () => {
    const dataDir = tempDataDir();
    const acked = await populate(dataDir, 30);
    fs.rmSync(path.join(dataDir, 'db'), { recursive: true });
    const error = await refusal(dataDir);
    assert.match(error.message, /the database is gone/);
    const { survivors, report } = await repairAndCheck(dataDir, acked);
    assert.equal(survivors.size, 0);
    assert.equal(report.lostRevisions, 30, 'every acknowledged create is reported lost');
  });

  test('a repair killed between moving the damaged store aside and the rebuilt one in is finished by the next repair', async () => {
    const dataDir = tempDataDir();
    const acked = await populate(dataDir, 25);
    // The state a SIGKILL between the two renames leaves: no db, a complete db.repaired.
    fs.renameSync(path.join(dataDir, 'db'), path.join(dataDir, 'db.repaired'));
    await refusal(dataDir);
    const { survivors } = await repairAndCheck(dataDir, acked);
    assert.equal(survivors.size, 25);
  });

  test('repair refuses a store a running server holds', async () => {
    const dataDir = tempDataDir();
    const storage = await LevelDbStorage.open(dataDir);
    try {
      await assert.rejects(repairLevelDb(dataDir), /in use .*stop the server first/);
      await storage.create('/registry/pods/default/still-served', pod('still-served'));
    } finally {
      await storage.close();
    }
  });

  test('`kubefacade server` exits with the message and `kubefacade repair` prints the report', async () => {
    const dataDir = tempDataDir();
    await populate(dataDir, 10);
    fs.rmSync(path.join(dataDir, 'db', 'CURRENT'));
    const cli = path.join(REPO_ROOT, 'server', 'cli.ts');
    const server = spawnSync(process.execPath, ['--import', 'tsx', cli, 'server', '--data-dir', dataDir, '--port', '0'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.notEqual(server.status, 0);
    assert.match(server.stderr, /CURRENT: missing/);
    assert.match(server.stderr, /kubefacade repair --data-dir/);
    const repair = spawnSync(process.execPath, ['--import', 'tsx', cli, 'repair', '--data-dir', dataDir], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(repair.status, 0, repair.stderr);
    assert.match(repair.stdout, /pods: 10 objects/);
    assert.match(repair.stdout, /acknowledged writes lost: 0/);
  });
});
