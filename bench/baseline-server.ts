// The reference the create scenario compares with: a bare node:https server that does what any
// storage-backed API must do per create and nothing more: read the body, JSON.parse it, one
// LevelDB put (classic-level, synced like our store), reply 201 with the body. `--mode null`
// skips parse and put: the ceiling of the load generator and TLS on this machine.
// Run as a child process: node --import tsx bench/baseline-server.ts --data-dir D --cert F --key F [--mode null] [--no-sync]

import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' },
    mode: { type: 'string', default: 'leveldb' }, 'no-sync': { type: 'boolean', default: false },
  },
});

const mode = values.mode === 'null' ? 'null' : 'leveldb';
const sync = !values['no-sync'];
const location = path.join(values['data-dir'] ?? '.', 'baseline-db');
mkdirSync(location, { recursive: true });
const db = mode === 'leveldb' ? new ClassicLevel<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' }) : undefined;
await db?.open();

interface Created {
  metadata?: { name?: string; namespace?: string };
}

const server = createServer({ cert: readFileSync(values.cert ?? ''), key: readFileSync(values.key ?? '') }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const reply = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (!db) return reply(201, body);
    let object: Created;
    try {
      object = JSON.parse(body) as Created;
    } catch {
      return reply(400, '{"kind":"Status","status":"Failure","code":400}');
    }
    const key = `/registry/pods/${object.metadata?.namespace ?? 'default'}/${object.metadata?.name ?? ''}`;
    db.put(key, body, { sync }).then(() => reply(201, body), (error: unknown) => reply(500, JSON.stringify({ message: String(error) })));
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});

const shutdown = (): void => {
  server.close();
  server.closeAllConnections();
  void (db?.close() ?? Promise.resolve()).then(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
