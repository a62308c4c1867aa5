// `npm run bench [-- SCENARIO flags]`: the bench subcommand on its own, without the rest of the
// CLI (`kubefacade bench` is the same command mounted in server/cli.ts). No arguments: `all`.

import { Command } from 'commander';
import { registerBenchCommand } from './cli.ts';

const program = new Command('kubefacade').showHelpAfterError();
registerBenchCommand(program);
const args = process.argv.slice(2);
try {
  await program.parseAsync(['bench', ...(args.length ? args : ['all'])], { from: 'user' });
  // Keep-alive agents and unref'd timers of finished scenarios must not hold the process open.
  process.exit(0);
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
