// `kubefacade migrate --from leveldb:./data --to etcd:http://127.0.0.1:2379`: copies a stopped
// server's objects into another store (see storage/migrate.ts) and reports what it copied.

import path from 'node:path';
import type { Command } from 'commander';

interface MigrateCommandOptions {
  from: string;
  to: string;
  etcdPrefix: string;
  encryptionProviderConfig?: string;
}

export function registerMigrateCommand(program: Command): void {
  program.command('migrate')
    .description('copy every object from one store to another (e.g. LevelDB to etcd); the source server must be stopped')
    .requiredOption('--from <store>', 'source: leveldb:<data dir> or etcd:<url>[,<url>...]')
    .requiredOption('--to <store>', 'target (must be empty): leveldb:<data dir> or etcd:<url>[,<url>...]')
    .option('--etcd-prefix <prefix>', 'prefix of every key in etcd (either side)', '/registry')
    .option('--encryption-provider-config <file>', 'the servers\' EncryptionConfiguration: encrypted values are decrypted from the source and encrypted into the target')
    .action(async (options: MigrateCommandOptions) => {
      const { migrate, openStoreLocation, parseStoreLocation } = await import('../storage/migrate.ts');
      const { encryptionTransformers } = await import('./encrypted-resources.ts');
      const transformers = encryptionTransformers(options.encryptionProviderConfig === undefined ? undefined : path.resolve(options.encryptionProviderConfig));
      const from = parseStoreLocation(options.from, options.etcdPrefix);
      const to = parseStoreLocation(options.to, options.etcdPrefix);
      const source = await openStoreLocation(from, transformers);
      try {
        const target = await openStoreLocation(to, transformers);
        try {
          const started = Date.now();
          const report = await migrate(source, target, { progress: (copied) => console.error(`copied ${copied} objects...`) });
          const seconds = (Date.now() - started) / 1000;
          for (const [resource, count] of Object.entries(report.byResource).sort()) console.log(`${resource}: ${count}`);
          console.log(`migrated ${report.total} objects (source revision ${report.sourceRevision}) in ${seconds.toFixed(1)}s`);
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    });
}
