// Bundles the web view (ui/src, TypeScript) with esbuild into ui/dist: one minified script and one
// stylesheet, named by content hash so the server can let browsers cache them for good, and an
// index.html that names them. Run by `npm run build:ui` (and so by `npm ci`, through `prepare`).

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../ui');
const outDir = path.join(uiDir, 'dist');

const hashed = (name: string, ext: string, body: string | Uint8Array): string =>
  `${name}-${createHash('sha256').update(body).digest('hex').slice(0, 12)}${ext}`;

const result = await build({
  entryPoints: [path.join(uiDir, 'src/main.ts')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const script = result.outputFiles[0].contents;
const style = readFileSync(path.join(uiDir, 'style.css'));
const scriptName = hashed('app', '.js', script);
const styleName = hashed('style', '.css', style);
const html = readFileSync(path.join(uiDir, 'index.html'), 'utf8')
  .replace('%SCRIPT%', `/assets/${scriptName}`)
  .replace('%STYLE%', `/assets/${styleName}`);

rmSync(outDir, { recursive: true, force: true });
mkdirSync(path.join(outDir, 'assets'), { recursive: true });
writeFileSync(path.join(outDir, 'assets', scriptName), script);
writeFileSync(path.join(outDir, 'assets', styleName), style);
writeFileSync(path.join(outDir, 'index.html'), html);
const gzipped = gzipSync(script).length + gzipSync(style).length + gzipSync(html).length;
writeFileSync(path.join(outDir, 'size.json'), JSON.stringify({ bytes: script.length + style.length + html.length, gzipped }) + '\n');
if (process.argv.includes('--report')) console.log(`ui: ${script.length + style.length + html.length} bytes, ${gzipped} gzipped`);
