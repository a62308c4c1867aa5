// The simulated shell's grammar: a POSIX-like subset. A script is a list of and-or chains (`a && b || c`) separated by
// `;`, `&` or newlines; a chain is a list of pipelines (`a | b`); a command is `NAME=value` assignments, words and
// redirections (`>`, `>>`, `<`, `2>`, `2>>`, `2>&1`, `>&2`). Words keep their quotes here; quote removal and `$VAR`
// expansion happen when the command runs (so `$?` sees the previous status). No loops, conditionals, globbing or
// command substitution: the parser says so with a syntax error rather than guessing.

export interface Redirection {
  fd: 0 | 1 | 2;
  op: '>' | '>>' | '<' | '>&';
  /** A raw word (file name), or the target descriptor for `>&`. */
  target: string;
}

export interface SimpleCommand {
  assignments: string[];
  words: string[];
  redirections: Redirection[];
}

export type Pipeline = SimpleCommand[];

export interface AndOr {
  first: Pipeline;
  rest: { op: '&&' | '||'; pipeline: Pipeline }[];
}

export type Script = AndOr[];

export class ShellSyntaxError extends Error {}

type Token = { kind: 'word'; text: string } | { kind: 'op'; text: string };

const OPERATORS = ['&&', '||', '>>', '2>>', '2>&1', '>&2', '1>&2', '2>', '1>', ';', '|', '&', '>', '<', '\n'];
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'while', 'until', 'for', 'do', 'done', 'case', 'esac', '{', '}', '(', ')']);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (ch === '\\' && source[i + 1] === '\n') {
      i += 2;
      continue;
    }
    const op = OPERATORS.filter((o) => source.startsWith(o, i)).sort((a, b) => b.length - a.length)[0];
    // `2>` is an operator only at the start of a word (`a2>b` is the word a2 then `>`).
    if (op && !(/^\d/.test(op) && tokens.length > 0 && i > 0 && !/\s|;|&|\|/.test(source[i - 1]))) {
      tokens.push({ kind: 'op', text: op });
      i += op.length;
      continue;
    }
    let word = '';
    while (i < source.length) {
      const c = source[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ';' || c === '|' || c === '&' || c === '>' || c === '<') break;
      if (c === '\\') {
        word += source.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (c === "'" || c === '"') {
        const end = findClosingQuote(source, i);
        word += source.slice(i, end + 1);
        i = end + 1;
        continue;
      }
      word += c;
      i++;
    }
    tokens.push({ kind: 'word', text: word });
  }
  return tokens;
}

function findClosingQuote(source: string, start: number): number {
  const quote = source[start];
  for (let i = start + 1; i < source.length; i++) {
    if (quote === '"' && source[i] === '\\') {
      i++;
      continue;
    }
    if (source[i] === quote) return i;
  }
  throw new ShellSyntaxError(`unterminated quoted string`);
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

export function parseScript(source: string): Script {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const unexpected = (token: Token | undefined): ShellSyntaxError =>
    new ShellSyntaxError(`syntax error: unexpected ${token ? `"${token.text === '\n' ? 'newline' : token.text}"` : 'end of file'}`);

  const command = (): SimpleCommand => {
    const cmd: SimpleCommand = { assignments: [], words: [], redirections: [] };
    for (;;) {
      const token = peek();
      if (!token) break;
      if (token.kind === 'word') {
        if (cmd.words.length === 0 && RESERVED.has(token.text)) throw unexpected(token);
        if (cmd.words.length === 0 && ASSIGNMENT.test(token.text)) cmd.assignments.push(token.text);
        else cmd.words.push(token.text);
        pos++;
        continue;
      }
      const redirect = redirectionOf(token.text);
      if (!redirect) break;
      pos++;
      if (redirect.op === '>&') {
        cmd.redirections.push(redirect as Redirection);
        continue;
      }
      const target = peek();
      if (!target || target.kind !== 'word') throw unexpected(target);
      pos++;
      cmd.redirections.push({ ...redirect, target: target.text } as Redirection);
    }
    if (cmd.words.length === 0 && cmd.assignments.length === 0 && cmd.redirections.length === 0) throw unexpected(peek());
    return cmd;
  };
  const pipeline = (): Pipeline => {
    const commands = [command()];
    while (peek()?.text === '|') {
      pos++;
      skipNewlines();
      commands.push(command());
    }
    return commands;
  };
  const skipNewlines = (): void => {
    while (peek()?.text === '\n') pos++;
  };
  const andOr = (): AndOr => {
    const chain: AndOr = { first: pipeline(), rest: [] };
    for (;;) {
      const op = peek()?.text;
      if (op !== '&&' && op !== '||') break;
      pos++;
      skipNewlines();
      chain.rest.push({ op, pipeline: pipeline() });
    }
    return chain;
  };
  const script: Script = [];
  for (;;) {
    while (peek() && (peek()!.text === '\n' || peek()!.text === ';') && peek()!.kind === 'op') {
      if (peek()!.text === ';' && script.length === 0) throw unexpected(peek());
      pos++;
    }
    if (!peek()) break;
    script.push(andOr());
    const separator = peek();
    if (!separator) break;
    if (separator.kind === 'op' && (separator.text === ';' || separator.text === '\n' || separator.text === '&')) {
      pos++;
      continue;
    }
    throw unexpected(separator);
  }
  return script;
}

function redirectionOf(op: string): Omit<Redirection, 'target'> & { target?: string } | undefined {
  switch (op) {
    case '>': case '1>': return { fd: 1, op: '>' };
    case '>>': return { fd: 1, op: '>>' };
    case '<': return { fd: 0, op: '<' };
    case '2>': return { fd: 2, op: '>' };
    case '2>>': return { fd: 2, op: '>>' };
    case '2>&1': return { fd: 2, op: '>&', target: '1' };
    case '>&2': case '1>&2': return { fd: 1, op: '>&', target: '2' };
    default: return undefined;
  }
}

/** Quote removal and parameter expansion of one word: `$VAR`, `${VAR}`, `$?`, `$$`; none inside single quotes. */
export function expandWord(word: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  const parameter = (): void => {
    // word[i] === '$'
    const rest = word.slice(i + 1);
    const braced = /^\{([A-Za-z_][A-Za-z0-9_]*|[?$#0-9])\}/.exec(rest);
    const plain = /^([A-Za-z_][A-Za-z0-9_]*|[?$#0-9])/.exec(rest);
    const match = braced ?? plain;
    if (!match) {
      out += '$';
      i++;
      return;
    }
    out += lookup(match[1]) ?? '';
    i += 1 + match[0].length;
  };
  while (i < word.length) {
    const c = word[i];
    if (c === '\\') {
      out += word[i + 1] ?? '';
      i += 2;
    } else if (c === "'") {
      const end = word.indexOf("'", i + 1);
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < word.length && word[i] !== '"') {
        if (word[i] === '\\' && '$`"\\\n'.includes(word[i + 1] ?? '')) {
          out += word[i + 1];
          i += 2;
        } else if (word[i] === '$') {
          parameter();
        } else {
          out += word[i++];
        }
      }
      i++;
    } else if (c === '$') {
      parameter();
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
