// `kubefacade repair --data-dir D`: salvages a damaged LevelDB store of a stopped server and reports
// what was lost (storage/leveldb-repair.ts). The server refuses to start on damage and names this command.

import path from 'node:path';
import type { Command } from 'commander';

export function registerRepairCommand(program: Command): void {
  program.command('repair')
    .description('salvage a damaged LevelDB store (the server must be stopped): keeps what is intact, reports what was lost, restarts resourceVersions above any ever handed out')
    .requiredOption('--data-dir <dir>', 'the data directory of the stopped server')
    .action(async (options: { dataDir: string }) => {
      const { repairLevelDb, formatRepairReport } = await import('../storage/leveldb-repair.ts');
      const report = await repairLevelDb(path.resolve(options.dataDir));
      console.log(formatRepairReport(report));
    });
}
