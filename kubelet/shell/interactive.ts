// An interactive shell session: a prompt, one line at a time, until `exit` or end of input. With a TTY the session
// also does what the terminal's line discipline would: echo what is typed, backspace, Ctrl-C (drops the line),
// Ctrl-D on an empty line (end of input), and LF → CRLF on output (kubectl puts the local terminal in raw mode, so
// all of this is the remote side's job). No line editing beyond that.
import { ExitRequest, type ShellContext } from './context.ts';
import type { ProcessOutput } from './io.ts';

type ScriptRunner = (source: string, ctx: ShellContext, rethrowExit: boolean) => Promise<number>;

function crlf(output: ProcessOutput): ProcessOutput {
  return {
    write: (data) => {
      const text = typeof data === 'string' ? Buffer.from(data) : data;
      const out: number[] = [];
      for (let i = 0; i < text.length; i++) {
        if (text[i] === 0x0a && (i === 0 || text[i - 1] !== 0x0d)) out.push(0x0d);
        out.push(text[i]);
      }
      output.write(Buffer.from(out));
    },
  };
}

export async function interactiveShell(ctx: ShellContext, run: ScriptRunner): Promise<number> {
  const tty = ctx.tty;
  const stdout = tty ? crlf(ctx.io.stdout) : ctx.io.stdout;
  const stderr = tty ? crlf(ctx.io.stdout) : ctx.io.stderr;
  const session: ShellContext = { ...ctx, io: { ...ctx.io, stdout, stderr } };
  const prompt = (): void => {
    if (tty) stdout.write(`${ctx.state.cwd === (ctx.state.env.get('HOME') ?? '/root') ? '~' : ctx.state.cwd} # `);
  };
  let line = '';
  let pending = '';
  prompt();
  for (;;) {
    const chunk = await ctx.io.stdin.read();
    if (!chunk || ctx.signal.aborted) {
      if (tty) stdout.write('\n');
      return ctx.state.status;
    }
    const text = chunk.toString('utf8');
    const lines: string[] = [];
    if (!tty) {
      pending += text;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts);
    } else {
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') {
          stdout.write('\n');
          lines.push(line);
          line = '';
        } else if (ch === '\x7f' || ch === '\b') {
          if (line.length > 0) {
            line = line.slice(0, -1);
            stdout.write('\b \b');
          }
        } else if (ch === '\x03') {
          stdout.write('^C\n');
          line = '';
          prompt();
        } else if (ch === '\x04') {
          if (line === '') {
            stdout.write('\n');
            return ctx.state.status;
          }
        } else if (ch === '\x1b' || ch < ' ') {
          // Escape sequences (arrow keys) and other control characters are not line-edited; ignore them.
        } else {
          line += ch;
          stdout.write(ch);
        }
      }
    }
    for (const command of lines) {
      try {
        ctx.state.status = await run(command, { ...session, state: ctx.state, io: { ...session.io, stdin: { read: async () => null } } }, true);
      } catch (error) {
        if (error instanceof ExitRequest) return error.code;
        throw error;
      }
      if (ctx.signal.aborted) return ctx.state.status;
      prompt();
    }
  }
}
