// The simulated container's filesystem: an in-memory tree of directories and files, created with the container
// instance from its pod (hostname, hosts, resolv.conf, mounted volumes) and dropped when the container restarts, as a
// container's writable layer is. Nothing here touches the host's disk.

export interface FileNode {
  kind: 'file';
  content: Buffer;
  mode: number;
  mtimeMs: number;
}

export interface DirectoryNode {
  kind: 'dir';
  mode: number;
  mtimeMs: number;
}

export type FsNode = FileNode | DirectoryNode;

export class FsError extends Error {
  constructor(readonly path: string, readonly reason: 'No such file or directory' | 'Not a directory' | 'Is a directory' | 'File exists' | 'Read-only file system') {
    super(`${path}: ${reason}`);
  }
}

/** Normalises an absolute or cwd-relative path; `..` never climbs above `/`. */
export function resolvePath(cwd: string, path: string): string {
  const parts = (path.startsWith('/') ? path : `${cwd}/${path}`).split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

function parentOf(path: string): string {
  const index = path.lastIndexOf('/');
  return index <= 0 ? '/' : path.slice(0, index);
}

export class SimulatedFilesystem {
  private readonly nodes = new Map<string, FsNode>([['/', { kind: 'dir', mode: 0o755, mtimeMs: Date.now() }]]);
  /** Mount points whose contents the container may not change (secret, configMap, downwardAPI volumes). */
  private readonly readOnlyRoots: string[] = [];

  stat(path: string): FsNode | undefined {
    return this.nodes.get(path);
  }

  mkdirp(path: string, mode = 0o755): void {
    if (path === '/') return;
    const existing = this.nodes.get(path);
    if (existing) {
      if (existing.kind !== 'dir') throw new FsError(path, 'Not a directory');
      return;
    }
    this.mkdirp(parentOf(path));
    this.nodes.set(path, { kind: 'dir', mode, mtimeMs: Date.now() });
  }

  /** Marks a mounted volume read-only: writes below it fail as they would on a read-only mount. */
  markReadOnly(path: string): void {
    this.readOnlyRoots.push(path);
  }

  private checkWritable(path: string): void {
    if (this.readOnlyRoots.some((root) => path === root || path.startsWith(`${root}/`))) throw new FsError(path, 'Read-only file system');
  }

  /** Writes a file (creating its parent directories when `parents`); used by the runtime and by the shell. */
  writeFile(path: string, content: Buffer, options: { mode?: number; append?: boolean; parents?: boolean; system?: boolean } = {}): void {
    if (!options.system) this.checkWritable(path);
    const parent = parentOf(path);
    if (options.parents) this.mkdirp(parent);
    const dir = this.nodes.get(parent);
    if (!dir) throw new FsError(path, 'No such file or directory');
    if (dir.kind !== 'dir') throw new FsError(path, 'Not a directory');
    const existing = this.nodes.get(path);
    if (existing?.kind === 'dir') throw new FsError(path, 'Is a directory');
    const body = options.append && existing ? Buffer.concat([existing.content, content]) : content;
    this.nodes.set(path, { kind: 'file', content: body, mode: options.mode ?? existing?.mode ?? 0o644, mtimeMs: Date.now() });
  }

  readFile(path: string): Buffer {
    const node = this.nodes.get(path);
    if (!node) throw new FsError(path, 'No such file or directory');
    if (node.kind === 'dir') throw new FsError(path, 'Is a directory');
    return node.content;
  }

  /** Names directly inside a directory, sorted as `ls` sorts them (byte order in the C locale). */
  list(path: string): string[] {
    const node = this.nodes.get(path);
    if (!node) throw new FsError(path, 'No such file or directory');
    if (node.kind !== 'dir') throw new FsError(path, 'Not a directory');
    const prefix = path === '/' ? '/' : `${path}/`;
    const names: string[] = [];
    for (const key of this.nodes.keys()) {
      if (key !== path && key.startsWith(prefix) && !key.slice(prefix.length).includes('/')) names.push(key.slice(prefix.length));
    }
    return names.sort();
  }

  /** Every path below (and including) `path`, parents before children. */
  walk(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    return [...this.nodes.keys()].filter((key) => key === path || key.startsWith(prefix)).sort();
  }

  remove(path: string, recursive: boolean): void {
    const node = this.nodes.get(path);
    if (!node || path === '/') throw new FsError(path, 'No such file or directory');
    this.checkWritable(path);
    if (node.kind === 'dir') {
      const below = this.walk(path);
      if (below.length > 1 && !recursive) throw new FsError(path, 'Is a directory');
      for (const key of below) this.nodes.delete(key);
      return;
    }
    this.nodes.delete(path);
  }
}
