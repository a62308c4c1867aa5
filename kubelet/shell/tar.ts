// `tar` in the simulated container, as `kubectl cp` drives it: `tar cf - <path>` (from the pod) and
// `tar [--no-same-permissions --no-same-owner] -xmf - [-C dir]` (into the pod), plus `tar tf -`. Archives are read
// and written by tar-stream (ustar/pax, the format kubectl's archive/tar writes and reads). Members that would land
// outside the target directory (`..` components, links) are refused as GNU tar refuses them, and nothing of such a
// member is written.
import { extract as tarExtract, pack as tarPack, type Header } from 'tar-stream';
import { complain, type Command, type ShellContext } from './context.ts';
import { FsError, resolvePath } from './filesystem.ts';
import { readAll } from './io.ts';

interface TarOptions {
  mode?: 'c' | 'x' | 't';
  file?: string;
  directory?: string;
  verbose: boolean;
  operands: string[];
}

function parseTarArgs(args: string[]): TarOptions | string {
  const options: TarOptions = { verbose: false, operands: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith('--')) {
      if (arg === '--no-same-permissions' || arg === '--no-same-owner' || arg === '--touch') continue;
      if (arg.startsWith('--directory=')) options.directory = arg.slice('--directory='.length);
      else if (arg.startsWith('--file=')) options.file = arg.slice('--file='.length);
      else return `unrecognized option '${arg}'`;
      continue;
    }
    // The first argument may be bundled letters without a dash (`tar cf - x`), as in traditional tar.
    if (arg.startsWith('-') || (i === 0 && /^[cxtvfmpoC]+$/.test(arg))) {
      const letters = arg.replace(/^-/, '');
      for (const letter of letters) {
        switch (letter) {
          case 'c': case 'x': case 't': options.mode = letter; break;
          case 'v': options.verbose = true; break;
          case 'm': case 'p': case 'o': break;
          case 'f': options.file = args[++i]; break;
          case 'C': options.directory = args[++i]; break;
          case 'z': case 'j': case 'J': return 'compressed archives are not supported';
          default: return `invalid option -- '${letter}'`;
        }
      }
      continue;
    }
    options.operands.push(arg);
  }
  if (!options.mode) return "You must specify one of the '-Acdtrux', '--delete' or '--test-label' options";
  return options;
}

export const tarCommand: Command = async (args, ctx) => {
  const options = parseTarArgs(args);
  if (typeof options === 'string') {
    complain(ctx, 'tar', options);
    return 2;
  }
  if (options.file !== undefined && options.file !== '-') {
    complain(ctx, 'tar', `only archives on standard input or output are supported ('-f -')`);
    return 2;
  }
  if (options.mode === 'c') return create(options, ctx);
  return extractArchive(options, ctx);
};

async function create(options: TarOptions, ctx: ShellContext): Promise<number> {
  const fs = ctx.instance.fs;
  const base = resolvePath(ctx.state.cwd, options.directory ?? '.');
  if (options.operands.length === 0) {
    complain(ctx, 'tar', 'Cowardly refusing to create an empty archive');
    return 2;
  }
  const pack = tarPack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  let status = 0;
  let warnedLeadingSlash = false;
  for (const operand of options.operands) {
    const root = resolvePath(base, operand);
    if (!fs.stat(root)) {
      complain(ctx, 'tar', `${operand}: Cannot stat: No such file or directory`);
      status = 2;
      continue;
    }
    if (operand.startsWith('/') && !warnedLeadingSlash) {
      complain(ctx, 'tar', "Removing leading `/' from member names");
      warnedLeadingSlash = true;
    }
    // Member names are the operand as given (relative to -C), leading slashes removed, as GNU tar writes them.
    const memberBase = operand.replace(/^\/+/, '').replace(/\/+$/, '') || '.';
    for (const full of fs.walk(root)) {
      const node = fs.stat(full)!;
      const suffix = full.slice(root.length).replace(/^\//, '');
      const name = suffix ? (memberBase === '.' ? suffix : `${memberBase}/${suffix}`) : memberBase;
      const header: Partial<Header> & { name: string } = { name: node.kind === 'dir' ? `${name}/` : name, mode: node.mode, mtime: new Date(node.mtimeMs), uname: 'root', gname: 'root', uid: 0, gid: 0 };
      if (node.kind === 'dir') pack.entry({ ...header, type: 'directory' });
      else pack.entry({ ...header, type: 'file', size: node.content.length }, node.content);
      if (options.verbose) ctx.io.stderr.write(`${header.name}\n`);
    }
  }
  pack.finalize();
  await ended;
  ctx.io.stdout.write(Buffer.concat(chunks));
  if (status !== 0) complain(ctx, 'tar', 'Exiting with failure status due to previous errors');
  return status;
}

/** Whether a member name stays inside the target directory once resolved. */
function escapes(name: string): boolean {
  return name.split('/').includes('..');
}

async function extractArchive(options: TarOptions, ctx: ShellContext): Promise<number> {
  const fs = ctx.instance.fs;
  const target = resolvePath(ctx.state.cwd, options.directory ?? '.');
  const targetNode = fs.stat(target);
  if (!targetNode || targetNode.kind !== 'dir') {
    complain(ctx, 'tar', `${options.directory ?? '.'}: Cannot open: No such file or directory`);
    return 2;
  }
  let archive: Buffer;
  try {
    archive = await readAll(ctx.io.stdin);
  } catch (error) {
    complain(ctx, 'tar', error instanceof Error ? error.message : String(error));
    return 2;
  }
  let failed = false;
  const extractor = tarExtract();
  const done = (async () => {
    for await (const entry of extractor) {
      const header = entry.header;
      const content = await collect(entry);
      const name = header.name.replace(/^\/+/, '');
      if (options.mode === 't') {
        ctx.io.stdout.write(`${header.name}\n`);
        continue;
      }
      if (escapes(name)) {
        complain(ctx, 'tar', `${header.name}: Member name contains '..'`);
        failed = true;
        continue;
      }
      if (header.type === 'symlink' || header.type === 'link') {
        complain(ctx, 'tar', `${header.name}: Cannot create link: links are not supported in this container`);
        failed = true;
        continue;
      }
      const at = resolvePath(target, name);
      try {
        if (header.type === 'directory') fs.mkdirp(at, header.mode ?? 0o755);
        else if (header.type === 'file' || header.type === 'contiguous-file' || header.type === undefined) {
          fs.writeFile(at, content, { mode: header.mode ?? 0o644, parents: true });
        }
        if (options.verbose) ctx.io.stdout.write(`${header.name}\n`);
      } catch (error) {
        complain(ctx, 'tar', `${header.name}: Cannot open: ${error instanceof FsError ? error.reason : String(error)}`);
        failed = true;
      }
    }
  })();
  extractor.end(archive);
  try {
    await done;
  } catch (error) {
    complain(ctx, 'tar', archive.length === 0 ? 'This does not look like a tar archive' : `${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  if (failed) {
    complain(ctx, 'tar', 'Exiting with failure status due to previous errors');
    return 2;
  }
  return 0;
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
