// What a simulated command runs with: the container instance, the shell's variables and working directory, its
// byte streams, whether a TTY is attached, and the session's abort signal (the client went away).
import type { ContainerInstance } from './container-instance.ts';
import type { ProcessIo } from './io.ts';

export interface ShellState {
  env: Map<string, string>;
  cwd: string;
  /** `$?`. */
  status: number;
}

export interface ShellContext {
  instance: ContainerInstance;
  state: ShellState;
  io: ProcessIo;
  tty: boolean;
  signal: AbortSignal;
}

export type Command = (args: string[], ctx: ShellContext) => Promise<number>;

/** Thrown by `exit N`: unwinds to the shell that runs the script. */
export class ExitRequest extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** `sh: X: not found` style diagnostics go to stderr prefixed with the program name. */
export function complain(ctx: ShellContext, program: string, message: string): void {
  ctx.io.stderr.write(`${program}: ${message}\n`);
}
