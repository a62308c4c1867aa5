// The programs the simulated container has, each a small deterministic function of its arguments, the container
// instance and its streams. Output formats follow busybox (the usual debug image): `ls -l`, `ps`, `id`.
import { FsError, resolvePath } from './filesystem.ts';
import { complain, ExitRequest, type Command, type ShellContext } from './context.ts';
import { readAll } from './io.ts';
import { tarCommand } from './tar.ts';

function path(ctx: ShellContext, name: string): string {
  return resolvePath(ctx.state.cwd, name);
}

function fsMessage(error: unknown): string {
  if (error instanceof FsError) return `${error.reason === 'No such file or directory' ? "can't open" : ''}${error.reason === 'No such file or directory' ? ` '${error.path}': ` : `${error.path}: `}${error.reason}`;
  return error instanceof Error ? error.message : String(error);
}

/** Splits `-la` style flags from operands; `--` ends flags. */
function flags(args: string[]): { set: Set<string>; operands: string[] } {
  const set = new Set<string>();
  const operands: string[] = [];
  let done = false;
  for (const arg of args) {
    if (!done && arg === '--') done = true;
    else if (!done && arg.startsWith('-') && arg.length > 1) for (const c of arg.slice(1)) set.add(c);
    else operands.push(arg);
  }
  return { set, operands };
}

const echo: Command = async (args, ctx) => {
  let newline = true;
  let escapes = false;
  let i = 0;
  for (; i < args.length && /^-[neE]+$/.test(args[i]); i++) {
    if (args[i].includes('n')) newline = false;
    if (args[i].includes('e')) escapes = true;
  }
  let text = args.slice(i).join(' ');
  if (escapes) text = text.replace(/\\([ntr\\])/g, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c] ?? c);
  ctx.io.stdout.write(newline ? `${text}\n` : text);
  return 0;
};

const env: Command = async (args, ctx) => {
  if (args.length > 0 && !args.every((a) => a.includes('='))) {
    complain(ctx, 'env', `can't execute '${args.find((a) => !a.includes('='))}': No such file or directory`);
    return 127;
  }
  const vars = new Map(ctx.state.env);
  for (const assignment of args) {
    const eq = assignment.indexOf('=');
    vars.set(assignment.slice(0, eq), assignment.slice(eq + 1));
  }
  for (const [key, value] of vars) ctx.io.stdout.write(`${key}=${value}\n`);
  return 0;
};

const printenv: Command = async (args, ctx) => {
  if (args.length === 0) return env([], ctx);
  let status = 0;
  for (const name of args) {
    const value = ctx.state.env.get(name);
    if (value === undefined) status = 1;
    else ctx.io.stdout.write(`${value}\n`);
  }
  return status;
};

const cat: Command = async (args, ctx) => {
  const { operands } = flags(args);
  if (operands.length === 0 || (operands.length === 1 && operands[0] === '-')) {
    for (let chunk = await ctx.io.stdin.read(); chunk; chunk = await ctx.io.stdin.read()) ctx.io.stdout.write(chunk);
    return 0;
  }
  let status = 0;
  for (const name of operands) {
    try {
      ctx.io.stdout.write(ctx.instance.fs.readFile(path(ctx, name)));
    } catch (error) {
      complain(ctx, 'cat', error instanceof FsError && error.reason === 'Is a directory' ? `read error: Is a directory` : fsMessage(error));
      status = 1;
    }
  }
  return status;
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function modeString(kind: 'file' | 'dir', mode: number): string {
  let out = kind === 'dir' ? 'd' : '-';
  for (let shift = 6; shift >= 0; shift -= 3) {
    const bits = (mode >> shift) & 7;
    out += `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${bits & 1 ? 'x' : '-'}`;
  }
  return out;
}

const ls: Command = async (args, ctx) => {
  const { set, operands } = flags(args);
  const fs = ctx.instance.fs;
  const targets = operands.length > 0 ? operands : ['.'];
  let status = 0;
  const long = (name: string, full: string): string => {
    const node = fs.stat(full)!;
    const date = new Date(node.mtimeMs);
    const size = node.kind === 'file' ? node.content.length : 4096;
    const stamp = `${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2)} ${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
    return `${modeString(node.kind, node.mode)}    ${node.kind === 'dir' ? 2 : 1} root     root     ${String(size).padStart(9)} ${stamp} ${name}`;
  };
  for (const [index, target] of targets.entries()) {
    const full = path(ctx, target);
    const node = fs.stat(full);
    if (!node) {
      complain(ctx, 'ls', `${target}: No such file or directory`);
      status = 1;
      continue;
    }
    if (node.kind === 'file' || set.has('d')) {
      ctx.io.stdout.write(`${set.has('l') ? long(target, full) : target}\n`);
      continue;
    }
    if (targets.length > 1) ctx.io.stdout.write(`${index > 0 ? '\n' : ''}${target}:\n`);
    let names = fs.list(full);
    if (!set.has('a') && !set.has('A')) names = names.filter((n) => !n.startsWith('.'));
    if (set.has('a')) names = ['.', '..', ...names];
    const child = (n: string): string => (n === '.' ? full : n === '..' ? resolvePath(full, '..') : resolvePath(full, n));
    if (set.has('l')) {
      ctx.io.stdout.write(`total ${names.length * 4}\n`);
      for (const name of names) ctx.io.stdout.write(`${long(name, child(name))}\n`);
    } else if (ctx.tty && !set.has('1')) {
      if (names.length > 0) ctx.io.stdout.write(`${names.join('  ')}\n`);
    } else {
      for (const name of names) ctx.io.stdout.write(`${name}\n`);
    }
  }
  return status;
};

const hostname: Command = async (_args, ctx) => {
  ctx.io.stdout.write(`${ctx.instance.hostname}\n`);
  return 0;
};

function userOf(ctx: ShellContext): { uid: number; gid: number } {
  const pod = ctx.instance.input.pod;
  const container = ctx.instance.input.container;
  const uid = container.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser ?? 0;
  const gid = container.securityContext?.runAsGroup ?? pod.spec?.securityContext?.runAsGroup ?? 0;
  return { uid, gid };
}

const id: Command = async (_args, ctx) => {
  const { uid, gid } = userOf(ctx);
  const name = (n: number): string => (n === 0 ? `${n}(root)` : n === 65534 ? `${n}(nobody)` : `${n}`);
  const groups = [gid, ...(ctx.instance.input.pod.spec?.securityContext?.supplementalGroups ?? [])];
  ctx.io.stdout.write(`uid=${name(uid)} gid=${name(gid)} groups=${groups.map(name).join(',')}\n`);
  return 0;
};

const whoami: Command = async (_args, ctx) => {
  const { uid } = userOf(ctx);
  if (uid !== 0 && uid !== 65534) {
    complain(ctx, 'whoami', `unknown uid ${uid}`);
    return 1;
  }
  ctx.io.stdout.write(uid === 0 ? 'root\n' : 'nobody\n');
  return 0;
};

const ps: Command = async (_args, ctx) => {
  ctx.io.stdout.write('PID   USER     TIME  COMMAND\n');
  for (const process of ctx.instance.processes) {
    ctx.io.stdout.write(`${String(process.pid).padStart(5)} ${process.user.padEnd(8)} ${'0:00'.padStart(5)} ${process.args.join(' ')}\n`);
  }
  return 0;
};

/** `sleep 5`, `sleep 0.5`, `sleep 1m`, `sleep infinity`: waits (abortably) without blocking anything else. */
const sleep: Command = async (args, ctx) => {
  if (args.length === 0) {
    complain(ctx, 'sleep', 'missing operand');
    return 1;
  }
  let totalMs = 0;
  for (const arg of args) {
    if (arg === 'infinity') totalMs = Infinity;
    const match = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(arg);
    if (!match && arg !== 'infinity') {
      complain(ctx, 'sleep', `invalid number '${arg}'`);
      return 1;
    }
    if (match) totalMs += Number(match[1]) * ({ '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2]] ?? 1000);
  }
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    const timer = totalMs === Infinity ? undefined : setTimeout(done, totalMs);
    function done(): void {
      if (timer) clearTimeout(timer);
      ctx.signal.removeEventListener('abort', done);
      resolve();
    }
    ctx.signal.addEventListener('abort', done, { once: true });
  });
  return ctx.signal.aborted ? 130 : 0;
};

const exit: Command = async (args, ctx) => {
  const code = args.length === 0 ? ctx.state.status : Number(args[0]);
  if (!Number.isInteger(code)) {
    complain(ctx, 'sh', `exit: Illegal number: ${args[0]}`);
    throw new ExitRequest(2);
  }
  throw new ExitRequest(((code % 256) + 256) % 256);
};

const pwd: Command = async (_args, ctx) => {
  ctx.io.stdout.write(`${ctx.state.cwd}\n`);
  return 0;
};

const cd: Command = async (args, ctx) => {
  const target = path(ctx, args[0] ?? ctx.state.env.get('HOME') ?? '/');
  const node = ctx.instance.fs.stat(target);
  if (!node || node.kind !== 'dir') {
    complain(ctx, 'sh', `cd: can't cd to ${args[0]}: ${node ? 'Not a directory' : 'No such file or directory'}`);
    return 2;
  }
  ctx.state.cwd = target;
  ctx.state.env.set('PWD', target);
  return 0;
};

const exportCommand: Command = async (args, ctx) => {
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq > 0) ctx.state.env.set(arg.slice(0, eq), arg.slice(eq + 1));
  }
  return 0;
};

const unset: Command = async (args, ctx) => {
  for (const name of args) ctx.state.env.delete(name);
  return 0;
};

const mkdir: Command = async (args, ctx) => {
  const { set, operands } = flags(args);
  let status = 0;
  for (const name of operands) {
    const full = path(ctx, name);
    try {
      if (ctx.instance.fs.stat(full) && !set.has('p')) throw new FsError(name, 'File exists');
      if (!set.has('p') && !ctx.instance.fs.stat(resolvePath(full, '..'))) throw new FsError(name, 'No such file or directory');
      ctx.instance.fs.mkdirp(full);
    } catch (error) {
      complain(ctx, 'mkdir', `can't create directory '${name}': ${error instanceof FsError ? error.reason : String(error)}`);
      status = 1;
    }
  }
  return status;
};

const rm: Command = async (args, ctx) => {
  const { set, operands } = flags(args);
  let status = 0;
  for (const name of operands) {
    const full = path(ctx, name);
    const node = ctx.instance.fs.stat(full);
    if (!node) {
      if (!set.has('f')) {
        complain(ctx, 'rm', `can't remove '${name}': No such file or directory`);
        status = 1;
      }
      continue;
    }
    if (node.kind === 'dir' && !set.has('r') && !set.has('R')) {
      complain(ctx, 'rm', `'${name}' is a directory`);
      status = 1;
      continue;
    }
    try {
      ctx.instance.fs.remove(full, true);
    } catch (error) {
      complain(ctx, 'rm', `can't remove '${name}': ${error instanceof FsError ? error.reason : String(error)}`);
      status = 1;
    }
  }
  return status;
};

const touch: Command = async (args, ctx) => {
  let status = 0;
  for (const name of flags(args).operands) {
    const full = path(ctx, name);
    try {
      const node = ctx.instance.fs.stat(full);
      if (node) node.mtimeMs = Date.now();
      else ctx.instance.fs.writeFile(full, Buffer.alloc(0));
    } catch (error) {
      complain(ctx, 'touch', `${name}: ${error instanceof FsError ? error.reason : String(error)}`);
      status = 1;
    }
  }
  return status;
};

const test: Command = async (rawArgs, ctx) => {
  const args = rawArgs[rawArgs.length - 1] === ']' ? rawArgs.slice(0, -1) : rawArgs;
  const negate = args[0] === '!';
  const rest = negate ? args.slice(1) : args;
  const node = (name: string) => ctx.instance.fs.stat(path(ctx, name));
  let result: boolean;
  if (rest.length === 0) result = false;
  else if (rest.length === 1) result = rest[0] !== '';
  else if (rest.length === 2) {
    const [op, operand] = rest;
    switch (op) {
      case '-d': result = node(operand)?.kind === 'dir'; break;
      case '-f': result = node(operand)?.kind === 'file'; break;
      case '-e': result = node(operand) !== undefined; break;
      case '-s': { const n = node(operand); result = n?.kind === 'file' && n.content.length > 0; break; }
      case '-n': result = operand !== ''; break;
      case '-z': result = operand === ''; break;
      default:
        complain(ctx, 'sh', `${op}: unknown operand`);
        return 2;
    }
  } else {
    const [left, op, right] = rest;
    switch (op) {
      case '=': case '==': result = left === right; break;
      case '!=': result = left !== right; break;
      case '-eq': result = Number(left) === Number(right); break;
      case '-ne': result = Number(left) !== Number(right); break;
      case '-lt': result = Number(left) < Number(right); break;
      case '-gt': result = Number(left) > Number(right); break;
      default:
        complain(ctx, 'sh', `${op}: unknown operand`);
        return 2;
    }
  }
  return (result !== negate) ? 0 : 1;
};

/** head/tail on stdin or one file: `-n N`, `-c N`, and tail's `-c +N` (kubectl cp's resume form). */
function headTail(which: 'head' | 'tail'): Command {
  return async (args, ctx) => {
    let lines = 10;
    let bytes: number | undefined;
    let fromStart = false;
    const files: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      const value = (inline: string): string => (inline !== '' ? inline : args[++i] ?? '');
      if (arg.startsWith('-n')) lines = Number(value(arg.slice(2)));
      else if (arg.startsWith('-c')) {
        const v = value(arg.slice(2));
        fromStart = v.startsWith('+');
        bytes = Number(v.replace(/^[+]/, ''));
      } else if (/^-\d+$/.test(arg)) lines = Number(arg.slice(1));
      else files.push(arg);
    }
    let data: Buffer;
    try {
      data = files.length > 0 ? ctx.instance.fs.readFile(path(ctx, files[0])) : await readAll(ctx.io.stdin);
    } catch (error) {
      complain(ctx, which, fsMessage(error));
      return 1;
    }
    if (bytes !== undefined) {
      if (which === 'head') ctx.io.stdout.write(data.subarray(0, bytes));
      else ctx.io.stdout.write(fromStart ? data.subarray(Math.max(0, bytes - 1)) : data.subarray(Math.max(0, data.length - bytes)));
      return 0;
    }
    const text = data.toString('utf8');
    const parts = text.split('\n');
    const trailing = text.endsWith('\n');
    if (trailing) parts.pop();
    const chosen = which === 'head' ? parts.slice(0, lines) : parts.slice(Math.max(0, parts.length - lines));
    if (chosen.length > 0) ctx.io.stdout.write(`${chosen.join('\n')}${trailing || which === 'head' ? '\n' : ''}`);
    return 0;
  };
}

const uname: Command = async (args, ctx) => {
  const all = flags(args).set.has('a');
  ctx.io.stdout.write(all ? `Linux ${ctx.instance.hostname} 6.1.0-kubefacade #1 SMP x86_64 GNU/Linux\n` : 'Linux\n');
  return 0;
};

const date: Command = async (_args, ctx) => {
  const now = new Date();
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const two = (n: number): string => String(n).padStart(2, '0');
  ctx.io.stdout.write(`${days[now.getUTCDay()]} ${MONTHS[now.getUTCMonth()]} ${String(now.getUTCDate()).padStart(2)} ${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())} UTC ${now.getUTCFullYear()}\n`);
  return 0;
};

/** Built into the shell: they change the shell's own state. */
export const SHELL_BUILTINS: Record<string, Command> = { cd, exit, export: exportCommand, unset };

/** Programs found on $PATH, by base name (so `/bin/echo` and `echo` are the same program). */
export const PROGRAMS: Record<string, Command> = {
  echo, env, printenv, cat, ls, hostname, id, whoami, ps, sleep, pwd, mkdir, rm, touch, uname, date,
  test, '[': test, head: headTail('head'), tail: headTail('tail'), tar: tarCommand,
  true: async () => 0, false: async () => 1, ':': async () => 0,
};
