// Large LIST replies are streamed in chunks (server/list-reply.ts) instead of being built as one
// string. With the chunk size lowered, a list of a few dozen pods crosses many chunks: the
// streamed body must be byte-for-byte the body sent in one piece, in every encoding and shape.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { setListReplyChunkChars } from '../server/list-reply.ts';

const NS = '/api/v1/namespaces/stream';
const POD_COUNT = 40;
// Above the 16 KiB write high-water mark, so every chunk write waits for 'drain'.
const SMALL_CHUNK = 20_000;

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const PARTIAL_LIST = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io';

describe('streamed LIST replies', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('api-list-stream');
    await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'stream' } }).expect(201);
    await Promise.all(Array.from({ length: POD_COUNT }, (_, i) => {
      const pod = podManifest(`p${String(i).padStart(2, '0')}`, {
        labels: { app: 'web', long: 'x'.repeat(60) },
        spec: { containers: [{ name: 'c', image: 'nginx:1.27', args: ['--line\nbreak', 'y '.repeat(80)] }] },
      }) as { metadata: Record<string, unknown> };
      pod.metadata.annotations = { note: 'z '.repeat(300), multiline: 'one\ntwo\n' };
      return json(t.call('post', `${NS}/pods`), pod).expect(201);
    }));
  });
  after(async () => {
    setListReplyChunkChars(undefined);
    await t.close();
  });

  /** The raw reply body and headers, with the chunk size set for this request only. */
  async function fetchList(path: string, accept: string | undefined, chunkChars: number | undefined) {
    setListReplyChunkChars(chunkChars);
    try {
      const call = t.call('get', path).buffer(true).parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
      });
      if (accept) call.set('Accept', accept);
      const res = await call.expect(200);
      return { text: res.body as string, headers: res.headers };
    } finally {
      setListReplyChunkChars(undefined);
    }
  }

  const cases: [string, string, string | undefined][] = [
    ['JSON list', `${NS}/pods?limit=500`, undefined],
    ['JSON list, all namespaces', '/api/v1/pods', 'application/json'],
    ['YAML list', `${NS}/pods`, 'application/yaml'],
    ['Table', `${NS}/pods`, TABLE],
    ['Table with whole objects', `${NS}/pods?includeObject=Object`, TABLE],
    ['PartialObjectMetadataList', `${NS}/pods`, PARTIAL_LIST],
  ];
  for (const [name, path, accept] of cases) {
    test(`${name}: streamed bytes equal the one-piece reply`, async () => {
      const whole = await fetchList(path, accept, undefined);
      const streamed = await fetchList(path, accept, SMALL_CHUNK);
      assert.ok(streamed.text.length > 2 * SMALL_CHUNK, `reply spans several chunks (${streamed.text.length} chars)`);
      assert.equal(whole.headers['content-length'], String(Buffer.byteLength(whole.text)), 'a one-chunk reply keeps its Content-Length');
      assert.equal(streamed.headers['transfer-encoding'], 'chunked');
      assert.equal(streamed.headers['content-type'], whole.headers['content-type']);
      if (name.startsWith('Table')) {
        // Rows carry ages computed from "now": compare all but the cells.
        const strip = (text: string) => {
          const table = JSON.parse(text) as { rows: { cells: unknown[] }[] };
          for (const row of table.rows) row.cells = [];
          return table;
        };
        assert.deepEqual(strip(streamed.text), strip(whole.text));
      } else {
        assert.equal(streamed.text, whole.text);
      }
      // What the server sent before streaming: JSON.stringify of the list object (fields in this
      // order), and YAML as the `yaml` package renders that same JSON.
      if (accept === 'application/yaml') {
        const asJson = await fetchList(path, 'application/json', undefined);
        assert.equal(streamed.text, toYaml(JSON.parse(asJson.text)));
      } else if (!name.startsWith('Table')) {
        assert.equal(whole.text, JSON.stringify(JSON.parse(whole.text)));
        assert.deepEqual(Object.keys(JSON.parse(whole.text)), ['kind', 'apiVersion', 'metadata', 'items']);
      }
      const parsed = (accept === 'application/yaml' ? parseYaml(streamed.text) : JSON.parse(streamed.text)) as { items?: unknown[]; rows?: unknown[] };
      assert.equal((parsed.items ?? parsed.rows)?.length, POD_COUNT);
    });
  }

  test('list metadata (resourceVersion, continue, remainingItemCount) survives streaming', async () => {
    const whole = JSON.parse((await fetchList(`${NS}/pods?limit=30`, undefined, undefined)).text);
    const streamed = JSON.parse((await fetchList(`${NS}/pods?limit=30`, undefined, SMALL_CHUNK)).text);
    assert.ok(streamed.metadata.continue, 'a continue token');
    assert.equal(streamed.metadata.remainingItemCount, POD_COUNT - 30);
    assert.equal(streamed.metadata.resourceVersion, whole.metadata.resourceVersion);
    assert.deepEqual(streamed.items.map((p: { metadata: { name: string } }) => p.metadata.name), whole.items.map((p: { metadata: { name: string } }) => p.metadata.name));
  });

  test('an empty list is unchanged in JSON and YAML', async () => {
    for (const accept of ['application/json', 'application/yaml']) {
      const whole = await fetchList(`${NS}/pods?labelSelector=none`, accept, undefined);
      const tiny = await fetchList(`${NS}/pods?labelSelector=none`, accept, 1);
      assert.equal(tiny.text, whole.text, accept);
    }
  });
});
