// Scenario `encoding`: what a LIST of N pods costs in JSON and in protobuf (the encoding client-go asks
// for: `application/vnd.kubernetes.protobuf,application/json`): bytes on the wire and API-server CPU per
// LIST, read from /proc/<pid>/stat around a batch of LISTs. One warm-up LIST per encoding first, so both
// are measured with their per-object encodings cached (JSON text is cached as objects are stored; the
// protobuf bytes on first use); the first, cold protobuf LIST is reported on its own.

import { request } from 'node:https';
import type { EncodingOptions } from '../defaults.ts';
import { BenchClient } from '../http-client.ts';
import { BENCH_NAMESPACE, podBody } from '../pod-template.ts';
import { readCpuSeconds } from '../processes.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import { ensureNamespace, runScenario, startServer, type CommonOptions } from '../scenario.ts';
import { nowMs, round } from '../stats.ts';

const JSON_ACCEPT = 'application/json';
const PROTOBUF_ACCEPT = 'application/vnd.kubernetes.protobuf,application/json';
const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const TARGET_RATIO = 0.7;

/** One LIST's reply: status, content type, size, and its first bytes (to check the encoding). */
function list(client: BenchClient, path: string, accept: string): Promise<{ status: number; contentType: string; bytes: number; head: Buffer }> {
  const url = new URL(client.target.server);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path, method: 'GET', agent: client.agent,
      headers: client.headers({ accept }),
    }, (res) => {
      let bytes = 0;
      const head: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (bytes < 64) head.push(chunk.subarray(0, 64));
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), bytes, head: Buffer.concat(head) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function createPods(client: BenchClient, options: EncodingOptions, onDone: () => void): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.pods) {
      const index = next++;
      const reply = await client.request('POST', `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`, podBody({ namePrefix: 'encoding-' }, index));
      if (reply.status !== 201) throw new Error(`creating pod ${index}: HTTP ${reply.status}: ${reply.body.slice(0, 300)}`);
      onDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.pods) }, worker));
}

interface Batch {
  bytesPerList: number;
  serverCpuMsPerList: number;
  latencyMsPerList: number;
  contentType: string;
}

/** `lists` LISTs in a row with `accept`: server CPU and wall time per LIST, bytes of each reply. */
async function measure(client: BenchClient, pid: number, path: string, accept: string, lists: number, check: (reply: { contentType: string; head: Buffer }) => void): Promise<Batch> {
  let bytes = 0;
  let contentType = '';
  const cpuBefore = readCpuSeconds(pid);
  const started = nowMs();
  for (let i = 0; i < lists; i++) {
    const reply = await list(client, path, accept);
    if (reply.status !== 200) throw new Error(`LIST ${path} (${accept}): HTTP ${reply.status}: ${reply.head.toString('utf8')}`);
    check(reply);
    if (bytes && reply.bytes !== bytes) throw new Error(`LIST ${path} (${accept}) changed size between LISTs: ${bytes} then ${reply.bytes}`);
    bytes = reply.bytes;
    contentType = reply.contentType;
  }
  const elapsed = nowMs() - started;
  const cpuAfter = readCpuSeconds(pid);
  if (cpuBefore === undefined || cpuAfter === undefined) throw new Error('cannot read the API server\'s CPU time (/proc/<pid>/stat)');
  return {
    bytesPerList: bytes, serverCpuMsPerList: round(((cpuAfter - cpuBefore) * 1000) / lists, 1),
    latencyMsPerList: round(elapsed / lists, 1), contentType,
  };
}

export function runEncoding(common: CommonOptions, options: EncodingOptions): Promise<ScenarioReport> {
  return runScenario('encoding', common, async (context) => {
    const server = await startServer(context);
    try {
      const client = new BenchClient(server.target, options.concurrency);
      try {
        await ensureNamespace(client);
        context.progress.phase('create pods', options.pods);
        let created = 0;
        await createPods(client, options, () => context.progress.update(++created));
        const path = `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`;
        const isJson = (reply: { contentType: string; head: Buffer }): void => {
          if (!reply.contentType.startsWith('application/json') || reply.head[0] !== 0x7b) throw new Error(`expected a JSON list, got ${reply.contentType}`);
        };
        const isProtobuf = (reply: { contentType: string; head: Buffer }): void => {
          if (reply.contentType !== 'application/vnd.kubernetes.protobuf' || !reply.head.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
            throw new Error(`expected a protobuf list, got ${reply.contentType}`);
          }
        };
        context.progress.phase('LIST: warm-up and cold protobuf', 2);
        await measure(client, server.pid, path, JSON_ACCEPT, 1, isJson);
        context.progress.update(1);
        const coldProtobuf = await measure(client, server.pid, path, PROTOBUF_ACCEPT, 1, isProtobuf);
        context.progress.update(2);
        context.progress.phase('LIST batches (JSON, protobuf)', 2);
        const json = await measure(client, server.pid, path, JSON_ACCEPT, options.lists, isJson);
        context.progress.update(1);
        const protobuf = await measure(client, server.pid, path, PROTOBUF_ACCEPT, options.lists, isProtobuf);
        context.progress.update(2);
        const bytesRatio = round(protobuf.bytesPerList / json.bytesPerList, 3);
        // metadata.managedFields: FieldsV1 is raw JSON in protobuf too (as upstream), so its bytes are the same in both.
        const sample = await client.json<{ metadata: { managedFields?: unknown[] } }>('GET', `${path}/encoding-0`);
        const managedFieldsBytesPerPod = Buffer.byteLength(JSON.stringify(sample.metadata.managedFields ?? []));
        const results: JsonObject = {
          encoding: 'protobuf', ...protobuf, bytesPerPod: round(protobuf.bytesPerList / options.pods, 1),
          coldServerCpuMsFirstList: coldProtobuf.serverCpuMsPerList, bytesRatioToJson: bytesRatio,
          cpuRatioToJson: json.serverCpuMsPerList > 0 ? round(protobuf.serverCpuMsPerList / json.serverCpuMsPerList, 3) : null,
        };
        const baseline: JsonObject = {
          encoding: 'json', ...json, bytesPerPod: round(json.bytesPerList / options.pods, 1),
          managedFieldsBytesPerPod, managedFieldsShare: round((managedFieldsBytesPerPod * options.pods) / json.bytesPerList, 3),
        };
        return {
          params: { ...options },
          results,
          baseline,
          ratioMetric: 'bytesPerList',
          targets: { [`protobuf bytes <= ${TARGET_RATIO}x JSON`]: bytesRatio <= TARGET_RATIO },
        };
      } finally {
        client.close();
      }
    } finally {
      await server.stop();
    }
  });
}
