// Scenario `exec`: the round trip of `kubectl exec pod -- echo hi` as client-go makes it over WebSocket
// (v5.channel.k8s.io: a new TLS connection and upgrade, "hi\n" on stdout, the Success Status on the error channel,
// the close), against a plain GET of the same pod over a kept-alive connection in the same run, the two alternated
// so both see the same load. Reported: each one's latency percentiles and what exec adds (p50 and p99).
// The target: an exec adds at most 20 ms over a GET.
import type { ExecOptions } from '../defaults.ts';
import { BENCH_NAMESPACE } from '../pod-template.ts';
import type { ScenarioReport } from '../report.ts';
import { runScenario, type CommonOptions } from '../scenario.ts';
import { nowMs, round, summarizeLatencies } from '../stats.ts';
import { startStreamingTarget, TARGET_POD, type StreamingTarget } from '../streaming-target.ts';

const TARGET_ADDED_MS = 20;
const STDOUT = 1;
const ERROR = 3;

/** One `echo hi` through pods/exec; resolves with its wall time once the session has closed. */
async function execEcho(target: StreamingTarget): Promise<number> {
  const started = nowMs();
  const ws = await target.connect(
    `/api/v1/namespaces/${BENCH_NAMESPACE}/pods/${TARGET_POD}/exec?command=echo&command=hi&container=app&stdout=true&stderr=true`,
    ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
  );
  let stdout = '';
  let status = '';
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      if (data[0] === STDOUT) stdout += data.subarray(1).toString('utf8');
      else if (data[0] === ERROR) status += data.subarray(1).toString('utf8');
    });
    ws.once('close', () => resolve());
    ws.once('error', reject);
  });
  const elapsed = nowMs() - started;
  if (stdout !== 'hi\n' || (JSON.parse(status || '{}') as { status?: string }).status !== 'Success') {
    throw new Error(`exec echo hi: stdout ${JSON.stringify(stdout)}, status ${status}`);
  }
  return elapsed;
}

async function getPod(target: StreamingTarget): Promise<number> {
  const started = nowMs();
  const reply = await target.client.request('GET', `/api/v1/namespaces/${BENCH_NAMESPACE}/pods/${TARGET_POD}`);
  const elapsed = nowMs() - started;
  if (reply.status !== 200) throw new Error(`GET pod: HTTP ${reply.status}: ${reply.body.slice(0, 300)}`);
  return elapsed;
}

export function runExec(common: CommonOptions, options: ExecOptions): Promise<ScenarioReport> {
  return runScenario('exec', common, async (context) => {
    const target = await startStreamingTarget(context);
    try {
      context.progress.phase('warm-up', options.warmup);
      for (let i = 0; i < options.warmup; i++) {
        await execEcho(target);
        await getPod(target);
        context.progress.update(i + 1);
      }
      context.progress.phase('exec and GET, alternated', options.execs);
      const execs: number[] = [];
      const gets: number[] = [];
      for (let i = 0; i < options.execs; i++) {
        gets.push(await getPod(target));
        execs.push(await execEcho(target));
        context.progress.update(i + 1);
      }
      const exec = summarizeLatencies(execs);
      const get = summarizeLatencies(gets);
      const addedP50Ms = round(exec.p50Ms - get.p50Ms, 2);
      const addedP99Ms = round(exec.p99Ms - get.p99Ms, 2);
      return {
        params: { ...options },
        results: { latency: { ...exec }, addedP50Ms, addedP99Ms },
        baseline: { latency: { ...get } },
        ratioMetric: 'latency.p50Ms',
        targets: {
          [`exec adds <= ${TARGET_ADDED_MS} ms over a GET (p50)`]: addedP50Ms <= TARGET_ADDED_MS,
          [`exec adds <= ${TARGET_ADDED_MS} ms over a GET (p99)`]: addedP99Ms <= TARGET_ADDED_MS,
        },
      };
    } finally {
      await target.stop();
    }
  });
}
