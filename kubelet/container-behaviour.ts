// What a simulated container "does" once started: which lines it prints and whether (and when, and how) it exits.
//
// The model, in order of precedence:
// 1. Pod annotations (values are one setting for every container, or `name=value` pairs separated by commas):
//      kubefacade.io/exit-after: "30s"            every container exits 30 s after it starts
//      kubefacade.io/exit-after: "app=5s,side=1m" per container
//      kubefacade.io/exit-code:  "1"  / "app=1"   exit code (default 0); alone, it means "exit right after start"
//      kubefacade.io/fail-times: "1"  / "app=2"   the first N runs of the container exit 1 right after start, later
//                                                 runs (restarts in place) do what the rest of the model says
// 2. The container's command + args, read the way a shell would for a few well-known programs:
//      true / :  → exit 0;  false → exit 1;  sleep N → exit 0 after N (sleep infinity: never);  echo … → prints, exit 0;
//      sh|bash|ash|dash -c "<script>": statements split on ; && || and newlines; exit N, sleep, echo, true, false
//      are understood; `while true`, `tail -f` and an unknown program as the last statement keep running.
// 3. No command: images whose default command is a shell (busybox, alpine, ubuntu, …) exit 0 at once unless the
//    container has stdin or tty, as a real shell reading an empty stdin does; everything else (nginx, redis…) runs.
// Init containers (not sidecars) with nothing recognisable run for `defaultInitRunMs` and exit 0.

export const EXIT_AFTER_ANNOTATION = 'kubefacade.io/exit-after';
export const EXIT_CODE_ANNOTATION = 'kubefacade.io/exit-code';
export const FAIL_TIMES_ANNOTATION = 'kubefacade.io/fail-times';

export interface ContainerExit {
  afterMs: number;
  code: number;
}

export interface ContainerBehaviour {
  /** Lines the program prints right after it starts. */
  output: string[];
  /** Absent: runs until the kubelet stops it. */
  exit?: ContainerExit;
  /** How many first runs exit 1 at once before `exit` applies (a task that fails once, then succeeds on restart). */
  failingRuns?: number;
}

export interface ContainerSpecLike {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  stdin?: boolean;
  tty?: boolean;
}

export interface BehaviourInput {
  container: ContainerSpecLike;
  annotations?: Record<string, string>;
  /** A regular init container (not a sidecar with restartPolicy Always). */
  isInitContainer?: boolean;
  defaultInitRunMs?: number;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);
const SHELL_DEFAULT_IMAGES = new Set(['busybox', 'alpine', 'ubuntu', 'debian', 'bash', 'centos', 'fedora', 'rockylinux', 'almalinux', 'amazonlinux']);

/** Go-style durations (`1m30s`, `500ms`, `2h`) or a bare number of seconds. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  const pattern = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * unitMs[match[2]];
    consumed += match[0].length;
  }
  return consumed === trimmed.length && consumed > 0 ? Math.round(total) : undefined;
}

/** Reads `value` or `name=value,name2=value2` for one container. */
export function annotationValueFor(value: string | undefined, containerName: string): string | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((part) => part.trim()).filter(Boolean);
  if (parts.length === 1 && !parts[0].includes('=')) return parts[0];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === containerName) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Splits a word list the way sh would for simple quoting ('…', "…", backslash). */
function splitWords(statement: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < statement.length; i++) {
    const ch = statement[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < statement.length) current += statement[++i];
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < statement.length) {
      current += statement[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

type Connector = ';' | '&&' | '||';

/** Splits a script into statements with the operator that precedes each, ignoring separators inside quotes. */
function splitStatements(script: string): { connector: Connector; text: string }[] {
  const statements: { connector: Connector; text: string }[] = [];
  let connector: Connector = ';';
  let current = '';
  let quote: string | null = null;
  for (let i = 0; i < script.length; i++) {
    const ch = script[i];
    if (quote) {
      if (ch === quote) quote = null;
      current += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
      continue;
    }
    const two = script.slice(i, i + 2);
    const separator: Connector | null = two === '&&' ? '&&' : two === '||' ? '||' : ch === ';' || ch === '\n' ? ';' : null;
    if (separator) {
      if (current.trim()) statements.push({ connector, text: current.trim() });
      connector = separator;
      current = '';
      if (separator !== ';') i++;
      continue;
    }
    current += ch;
  }
  if (current.trim()) statements.push({ connector, text: current.trim() });
  return statements;
}

function baseName(program: string): string {
  return program.slice(program.lastIndexOf('/') + 1);
}

interface ProgramResult {
  output: string[];
  /** null: keeps running. */
  exit: ContainerExit | null;
}

/** Runs one simple command; `undefined` means "not a program this model knows". */
function simpleCommand(words: string[]): { output: string[]; durationMs: number; code: number; forever?: boolean } | undefined {
  const program = baseName(words[0] ?? '');
  const args = words.slice(1);
  switch (program) {
    case 'true':
    case ':':
      return { output: [], durationMs: 0, code: 0 };
    case 'false':
      return { output: [], durationMs: 0, code: 1 };
    case 'echo': {
      const noNewlineFlag = args[0] === '-n' || args[0] === '-e';
      return { output: [(noNewlineFlag ? args.slice(1) : args).join(' ')], durationMs: 0, code: 0 };
    }
    case 'sleep': {
      if (args[0] === 'infinity' || args[0] === 'inf') return { output: [], durationMs: 0, code: 0, forever: true };
      const duration = args.length > 0 ? parseDurationMs(args[0]) : undefined;
      return duration === undefined ? { output: [], durationMs: 0, code: 1 } : { output: [], durationMs: duration, code: 0 };
    }
    case 'tail':
      return args.includes('-f') || args.includes('-F') ? { output: [], durationMs: 0, code: 0, forever: true } : undefined;
    default:
      return undefined;
  }
}

function runScript(script: string): ProgramResult {
  const output: string[] = [];
  let elapsed = 0;
  let status = 0;
  const statements = splitStatements(script);
  for (let index = 0; index < statements.length; index++) {
    const { connector, text } = statements[index];
    if (connector === '&&' && status !== 0) continue;
    if (connector === '||' && status === 0) continue;
    if (/^while\s+(true|:)/.test(text) || /^until\s+false/.test(text)) return { output, exit: null };
    const words = splitWords(text);
    if (words[0] === 'exit') {
      const code = words[1] === undefined ? status : Number(words[1]);
      return { output, exit: { afterMs: elapsed, code: Number.isInteger(code) ? code & 0xff : 2 } };
    }
    if (words[0] === 'exec') words.shift();
    const result = simpleCommand(words);
    if (!result) {
      // An unknown program: assume it finishes quickly unless it is the last thing the script does (a server).
      if (index === statements.length - 1) return { output, exit: null };
      status = 0;
      continue;
    }
    if (result.forever) return { output: [...output, ...result.output], exit: null };
    output.push(...result.output);
    elapsed += result.durationMs;
    status = result.code;
  }
  return { output, exit: { afterMs: elapsed, code: status } };
}

function runArgv(argv: string[]): ProgramResult {
  const program = baseName(argv[0]);
  if (SHELLS.has(program)) {
    const dashC = argv.findIndex((word, i) => i > 0 && /^-[a-z]*c[a-z]*$/.test(word));
    if (dashC !== -1 && argv[dashC + 1] !== undefined) return runScript(argv[dashC + 1]);
    return { output: [], exit: null };
  }
  const result = simpleCommand(argv);
  if (!result || result.forever) return { output: result?.output ?? [], exit: null };
  return { output: result.output, exit: { afterMs: result.durationMs, code: result.code } };
}

function imageBaseName(image: string | undefined): string {
  if (!image) return '';
  const withoutDigest = image.split('@')[0];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const name = withoutDigest.slice(lastSlash + 1);
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(0, colon);
}

export function containerBehaviour(input: BehaviourInput): ContainerBehaviour {
  const behaviour = programBehaviour(input);
  const failTimes = Number(annotationValueFor(input.annotations?.[FAIL_TIMES_ANNOTATION], input.container.name));
  return Number.isInteger(failTimes) && failTimes > 0 ? { ...behaviour, failingRuns: failTimes } : behaviour;
}

function programBehaviour(input: BehaviourInput): ContainerBehaviour {
  const { container, annotations = {} } = input;
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  let program: ProgramResult;
  if (argv.length > 0) {
    program = runArgv(argv);
  } else if (SHELL_DEFAULT_IMAGES.has(imageBaseName(container.image)) && !container.stdin && !container.tty) {
    program = { output: [], exit: { afterMs: 0, code: 0 } };
  } else if (imageBaseName(container.image) === 'hello-world') {
    program = { output: ['Hello from Docker!'], exit: { afterMs: 0, code: 0 } };
  } else {
    program = { output: [], exit: null };
  }

  const exitAfterText = annotationValueFor(annotations[EXIT_AFTER_ANNOTATION], container.name);
  const exitCodeText = annotationValueFor(annotations[EXIT_CODE_ANNOTATION], container.name);
  if (exitAfterText !== undefined || exitCodeText !== undefined) {
    const afterMs = exitAfterText === undefined ? 0 : parseDurationMs(exitAfterText);
    const code = exitCodeText === undefined ? 0 : Number(exitCodeText);
    if (afterMs !== undefined && Number.isInteger(code)) {
      return { output: program.output, exit: { afterMs, code: code & 0xff } };
    }
  }
  if (program.exit) return { output: program.output, exit: program.exit };
  if (input.isInitContainer && argv.length === 0) {
    return { output: program.output, exit: { afterMs: input.defaultInitRunMs ?? 1000, code: 0 } };
  }
  if (input.isInitContainer && program.exit === null && argv.length > 0 && !SHELLS.has(baseName(argv[0])) && simpleCommand(argv) === undefined) {
    // An init container running an unknown program (e.g. a migration tool) is expected to finish.
    return { output: program.output, exit: { afterMs: input.defaultInitRunMs ?? 1000, code: 0 } };
  }
  return { output: program.output };
}
