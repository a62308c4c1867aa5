// The `kubefacade` command line. Each subcommand is one registration function in SUBCOMMANDS, so adding
// `scheduler`, `kubelet` or `up` is one function plus one list entry. Flags are named as kube-apiserver
// names them where it has an equivalent (--bind-address, --secure-port, --tls-cert-file, ...).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option, InvalidArgumentError } from 'commander';

export type RegisterSubcommand = (program: Command) => void;

interface ServerCommandOptions {
  dataDir: string;
  bind?: string;
  bindAddress?: string;
  port?: number;
  securePort?: number;
  tlsSan: string[];
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
}

const DEFAULT_BIND = '127.0.0.1';
const DEFAULT_PORT = 6443;

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

function collect(value: string, previous: string[]): string[] {
  // Repeatable, and comma-separated like kube-apiserver's string slices.
  return [...previous, ...value.split(',').map((item) => item.trim()).filter(Boolean)];
}

/** Runs until SIGINT/SIGTERM, then closes `close` once and exits. */
export function closeOnSignals(close: () => Promise<void>, log: (line: string) => void = console.error): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log(`received ${signal}, shutting down`);
    close().then(() => process.exit(0), (err: unknown) => {
      log(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

export const registerServerCommand: RegisterSubcommand = (program) => {
  program.command('server')
    .description('run the Kubernetes-compatible API server')
    .option('--data-dir <dir>', 'directory for the database, PKI and admin kubeconfig', './data')
    .addOption(new Option('--bind <address>', `address to listen on (default: ${DEFAULT_BIND})`).conflicts('bindAddress'))
    .addOption(new Option('--bind-address <address>', 'alias of --bind (kube-apiserver name)').hideHelp())
    .addOption(new Option('--port <port>', `HTTPS port to listen on (default: ${DEFAULT_PORT})`).argParser(parsePort).conflicts('securePort'))
    .addOption(new Option('--secure-port <port>', 'alias of --port (kube-apiserver name)').argParser(parsePort).hideHelp())
    .option('--tls-san <name>', 'extra subject alternative name (IP or DNS) for the serving certificate; repeatable', collect, [] as string[])
    .option('--tls-cert-file <file>', 'serving certificate (PEM) instead of the generated one')
    .option('--tls-private-key-file <file>', 'private key (PEM) for --tls-cert-file')
    .action(async (options: ServerCommandOptions) => {
      if (Boolean(options.tlsCertFile) !== Boolean(options.tlsPrivateKeyFile)) {
        throw new InvalidArgumentError('--tls-cert-file and --tls-private-key-file must be given together');
      }
      // Imported here so this file loads (and `--help` works) independently of the server's dependencies.
      const { startApiServer } = await import('./start.ts');
      const server = await startApiServer({
        dataDir: path.resolve(options.dataDir),
        bind: options.bindAddress ?? options.bind ?? DEFAULT_BIND,
        port: options.securePort ?? options.port ?? DEFAULT_PORT,
        tlsSans: options.tlsSan,
        tlsCertFile: options.tlsCertFile,
        tlsPrivateKeyFile: options.tlsPrivateKeyFile,
      });
      console.error(`kubefacade API server listening on ${server.url}`);
      console.error(`admin kubeconfig: ${server.adminKubeconfigPath}`);
      console.error(`  kubectl --kubeconfig ${server.adminKubeconfigPath} get nodes`);
      closeOnSignals(() => server.close());
    });
};

/** Subcommands in help order. */
export const SUBCOMMANDS: RegisterSubcommand[] = [registerServerCommand];

export function buildCli(subcommands: RegisterSubcommand[] = SUBCOMMANDS): Command {
  const program = new Command('kubefacade')
    .description('A Kubernetes-compatible API server with a bundled scheduler and simulated kubelets')
    .showHelpAfterError()
    .enablePositionalOptions();
  for (const register of subcommands) register(program);
  return program;
}

export async function runCli(argv: string[] = process.argv): Promise<void> {
  await buildCli().parseAsync(argv);
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  runCli().catch((err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
