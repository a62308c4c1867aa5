// The simulated shell's interpreter: runs a parsed script (kubelet/shell/parser.ts) against the container instance,
// and runs an exec'd argv the way a container runtime does (no shell unless the argv names one). Unknown programs
// fail as busybox sh reports them (`sh: X: not found`, exit 127). No host process is ever started: every program is
// a function in kubelet/shell/commands.ts.
import { PROGRAMS, SHELL_BUILTINS } from './commands.ts';
import { complain, ExitRequest, type Command, type ShellContext, type ShellState } from './context.ts';
import { resolvePath } from './filesystem.ts';
import { BufferInput, BufferOutput, DISCARD, EMPTY_INPUT, readAll, type ProcessIo, type ProcessOutput } from './io.ts';
import { expandWord, parseScript, ShellSyntaxError, type Pipeline, type SimpleCommand } from './parser.ts';
import { interactiveShell } from './interactive.ts';

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash']);

export function baseName(program: string): string {
  return program.slice(program.lastIndexOf('/') + 1);
}

export function isShell(program: string): boolean {
  return SHELLS.has(baseName(program));
}

/** Runs a script; `exit` ends it with its code (or, with rethrowExit, ends the interactive session around it). */
export async function runScript(source: string, ctx: ShellContext, rethrowExit = false): Promise<number> {
  let script;
  try {
    script = parseScript(source);
  } catch (error) {
    if (!(error instanceof ShellSyntaxError)) throw error;
    complain(ctx, 'sh', error.message);
    return 2;
  }
  try {
    for (const chain of script) {
      if (ctx.signal.aborted) break;
      let status = await runPipeline(chain.first, ctx);
      for (const { op, pipeline } of chain.rest) {
        if ((op === '&&') === (status === 0)) status = await runPipeline(pipeline, ctx);
      }
      ctx.state.status = status;
    }
  } catch (error) {
    if (error instanceof ExitRequest && !rethrowExit) return error.code;
    throw error;
  }
  return ctx.state.status;
}

async function runPipeline(pipeline: Pipeline, ctx: ShellContext): Promise<number> {
  let input = ctx.io.stdin;
  let status = 0;
  for (const [index, command] of pipeline.entries()) {
    const last = index === pipeline.length - 1;
    const captured = last ? undefined : new BufferOutput();
    const io: ProcessIo = { stdin: input, stdout: captured ?? ctx.io.stdout, stderr: ctx.io.stderr };
    status = await runSimple(command, { ...ctx, io });
    if (captured) input = new BufferInput(captured.contents());
  }
  return status;
}

function lookupVariable(state: ShellState): (name: string) => string | undefined {
  return (name) => {
    if (name === '?') return String(state.status);
    if (name === '$') return '1';
    if (name === '0') return 'sh';
    if (name === '#') return '0';
    return state.env.get(name);
  };
}

/** An output that writes into a file of the container (`> file`, `>> file`). */
function fileOutput(ctx: ShellContext, name: string, append: boolean): ProcessOutput {
  if (name === '/dev/null') return DISCARD;
  if (name === '/dev/stdout') return ctx.io.stdout;
  if (name === '/dev/stderr') return ctx.io.stderr;
  const full = resolvePath(ctx.state.cwd, name);
  ctx.instance.fs.writeFile(full, Buffer.alloc(0), { append });
  return { write: (data) => ctx.instance.fs.writeFile(full, typeof data === 'string' ? Buffer.from(data) : data, { append: true }) };
}

async function runSimple(command: SimpleCommand, ctx: ShellContext): Promise<number> {
  const lookup = lookupVariable(ctx.state);
  const words = command.words.map((word) => expandWord(word, lookup));
  const assignments = command.assignments.map((a) => {
    const eq = a.indexOf('=');
    return [a.slice(0, eq), expandWord(a.slice(eq + 1), lookup)] as const;
  });
  const io: ProcessIo = { ...ctx.io };
  try {
    for (const redirect of command.redirections) {
      if (redirect.op === '>&') {
        if (redirect.fd === 2) io.stderr = io.stdout;
        else io.stdout = io.stderr;
      } else if (redirect.op === '<') {
        io.stdin = new BufferInput(ctx.instance.fs.readFile(resolvePath(ctx.state.cwd, expandWord(redirect.target, lookup))));
      } else {
        const output = fileOutput(ctx, expandWord(redirect.target, lookup), redirect.op === '>>');
        if (redirect.fd === 2) io.stderr = output;
        else io.stdout = output;
      }
    }
  } catch (error) {
    complain(ctx, 'sh', error instanceof Error ? error.message.replace(/^(.*): (.*)$/, "can't create $1: $2") : String(error));
    return 1;
  }
  if (words.length === 0) {
    for (const [name, value] of assignments) ctx.state.env.set(name, value);
    return 0;
  }
  const state: ShellState = assignments.length === 0 ? ctx.state : { ...ctx.state, env: new Map([...ctx.state.env, ...assignments]) };
  return runProgram(words, { ...ctx, io, state }, 'sh');
}

/**
 * Runs argv[0] with its arguments. `via` says who looked the program up: `sh` for a command in a script (an
 * unknown one is `sh: X: not found`), `exec` for the argv of an exec request (the runtime's message).
 */
export async function runProgram(argv: string[], ctx: ShellContext, via: 'sh' | 'exec'): Promise<number> {
  const [program, ...args] = argv;
  const builtin = via === 'sh' ? SHELL_BUILTINS[program] : undefined;
  if (builtin) return builtin(args, ctx);
  const name = baseName(program);
  if (isShell(program)) return runShellProgram(argv, ctx);
  const implementation: Command | undefined = PROGRAMS[name];
  if (!implementation || (program.includes('/') && !program.startsWith('/'))) {
    if (via === 'sh') {
      complain(ctx, 'sh', `${program}: not found`);
    } else {
      ctx.io.stderr.write(`OCI runtime exec failed: exec failed: unable to start container process: exec: "${program}": executable file not found in $PATH: unknown\n`);
    }
    return 127;
  }
  const process = ctx.instance.spawn(argv);
  try {
    return await implementation(args, ctx);
  } catch (error) {
    if (error instanceof ExitRequest) throw error;
    complain(ctx, name, error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    ctx.instance.exit(process);
  }
}

/** `sh -c 'script'`, `sh script-from-stdin`, or an interactive shell when stdin is a terminal (or `-i`). */
async function runShellProgram(argv: string[], ctx: ShellContext): Promise<number> {
  const args = argv.slice(1);
  const process = ctx.instance.spawn(argv);
  const sub: ShellContext = { ...ctx, state: { env: new Map(ctx.state.env), cwd: ctx.state.cwd, status: 0 } };
  try {
    const dashC = args.findIndex((a) => /^-[a-z]*c[a-z]*$/.test(a));
    if (dashC !== -1) {
      const script = args[dashC + 1];
      if (script === undefined) {
        complain(ctx, 'sh', '-c requires an argument');
        return 2;
      }
      return await runScript(script, sub);
    }
    const interactive = ctx.tty || args.includes('-i');
    if (interactive) return await interactiveShell(sub, runScript);
    if (ctx.io.stdin === EMPTY_INPUT) return 0;
    return await runScript((await readAll(ctx.io.stdin)).toString('utf8'), sub);
  } finally {
    ctx.instance.exit(process);
  }
}
