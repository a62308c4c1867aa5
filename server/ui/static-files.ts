// The built page (scripts/build-ui.ts writes ui/dist): index.html and content-hashed assets, read
// into memory once at start (a few tens of kilobytes), so serving them never touches the disk.

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  contentType: string;
  body: Buffer;
}

export interface StaticFiles {
  index: StaticFile;
  /** By URL path: `/assets/app-<hash>.js`. */
  assets: Map<string, StaticFile>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/** ui/dist beside the sources (server/ui/), or dist/ui in the built package (every chunk sits in dist/). */
export function defaultStaticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../ui/dist'), resolve(here, 'ui')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0];
}

export async function loadStaticFiles(dir = defaultStaticDir()): Promise<StaticFiles> {
  let index: Buffer;
  try {
    index = await readFile(join(dir, 'index.html'));
  } catch {
    throw new Error(`the web view is not built (${join(dir, 'index.html')} is missing): run \`npm run build:ui\``);
  }
  const assets = new Map<string, StaticFile>();
  const assetDir = join(dir, 'assets');
  for (const name of existsSync(assetDir) ? await readdir(assetDir) : []) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) assets.set(`/assets/${name}`, { contentType: type, body: await readFile(join(assetDir, name)) });
  }
  return { index: { contentType: CONTENT_TYPES['.html'], body: index }, assets };
}
