// `kubefacade token create` and `kubefacade kubeconfig`: credentials for a user, minted offline from the
// data dir's keys (the same `pki/sa.key` and `pki/ca.crt` the server uses, created if missing).
//   kubefacade token create --user alice --group dev --ttl 24h      → prints a JWT
//   kubefacade kubeconfig --user alice --group dev > alice.kubeconfig → a kubeconfig with CA data + token

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CredentialIssuer } from './credentials.ts';

const DEFAULT_TTL = '24h';
const DEFAULT_SERVER = 'https://127.0.0.1:6443';

interface CredentialFlags {
  user: string;
  group: string[];
  ttl: string;
  dataDir: string;
}

/** A Go duration as `--ttl` takes it (`24h`, `90m`, `1h30m`, `45s`) in seconds. */
export function parseTtlSeconds(value: string): number {
  const text = value.trim();
  if (!/^(\d+(\.\d+)?(h|m|s|ms))+$/.test(text)) throw new InvalidArgumentError('must be a duration such as 1h, 30m or 24h');
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    const n = Number(amount);
    seconds += unit === 'h' ? n * 3600 : unit === 'm' ? n * 60 : unit === 's' ? n : n / 1000;
  }
  if (seconds <= 0) throw new InvalidArgumentError('must be longer than zero');
  return seconds;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim()).filter(Boolean)];
}

function withCredentialFlags(command: Command): Command {
  return command
    .requiredOption('--user <name>', 'user name the credential authenticates as (the JWT sub claim)')
    .option('--group <name>', 'group of the user; repeatable or comma-separated', collect, [] as string[])
    .option('--ttl <duration>', 'lifetime of the token', DEFAULT_TTL)
    .option('--data-dir <dir>', 'data directory of the server whose keys sign the credential', './data');
}

async function issuerFor(dataDir: string): Promise<CredentialIssuer> {
  // Loaded on use, so `--help` does not pull in the crypto and certificate code.
  const [{ CredentialIssuer }, { ensureCertificateAuthority }, { ensureSigningKey }] = await Promise.all([
    import('./credentials.ts'), import('./pki.ts'), import('./signing-key.ts'),
  ]);
  const dir = path.resolve(dataDir);
  const [ca, key] = await Promise.all([ensureCertificateAuthority(path.join(dir, 'pki')), ensureSigningKey(dir)]);
  return new CredentialIssuer(ca, key);
}

/** The server address in the data dir's admin kubeconfig (written at server start), if there is one. */
async function serverFromAdminKubeconfig(dataDir: string): Promise<string | undefined> {
  try {
    const config = parseYaml(await readFile(path.join(path.resolve(dataDir), 'admin.kubeconfig'), 'utf8')) as { clusters?: { cluster?: { server?: string } }[] };
    return config.clusters?.[0]?.cluster?.server;
  } catch {
    return undefined;
  }
}

export function registerCredentialCommands(program: Command): void {
  const token = program.command('token').description('bearer tokens for the API server');
  withCredentialFlags(token.command('create'))
    .description('print a JWT the API server accepts (issuer https://kubefacade.local, audience kubefacade)')
    .action(async (options: CredentialFlags) => {
      const issuer = await issuerFor(options.dataDir);
      process.stdout.write(`${issuer.token({ username: options.user, groups: options.group }, parseTtlSeconds(options.ttl))}\n`);
    });

  withCredentialFlags(program.command('kubeconfig'))
    .description('print a kubeconfig (cluster CA + bearer JWT) for a user')
    .option('--server <url>', `API server URL (default: the data dir's admin kubeconfig, else ${DEFAULT_SERVER})`)
    .action(async (options: CredentialFlags & { server?: string }) => {
      const issuer = await issuerFor(options.dataDir);
      const server = options.server ?? await serverFromAdminKubeconfig(options.dataDir) ?? DEFAULT_SERVER;
      process.stdout.write(issuer.tokenKubeconfig(server, { username: options.user, groups: options.group }, parseTtlSeconds(options.ttl)));
    });
}
