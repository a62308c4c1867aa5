// Scenario `port-forward`: MB/s through pods/portforward to a container's declared port, as a forwarded local
// connection moves them: one HTTP POST of N MiB streamed through the tunnel (WebSocket v4.channel.k8s.io: client →
// API server → kubelet → the simulated port, which reads and drops the body and answers once it has all of it),
// written in client-go's 32 KiB frames with at most a few MiB in flight, timed from the first byte to the answer.
// Baseline in the same run: the same bytes in the same writes over a direct loopback TCP connection to a server that
// reads and drops them and answers at the end. The target: at least 50 MB/s through the tunnel.
import net from 'node:net';
import type WebSocket from 'ws';
import type { PortForwardOptions } from '../defaults.ts';
import { BENCH_NAMESPACE } from '../pod-template.ts';
import type { ScenarioReport } from '../report.ts';
import { runScenario, type CommonOptions } from '../scenario.ts';
import { nowMs, round } from '../stats.ts';
import { startStreamingTarget, TARGET_POD, TARGET_PORT } from '../streaming-target.ts';

const TARGET_MB_PER_SECOND = 50;
/** Bytes written but not yet handed to the kernel, above which the writer waits (a forwarded socket's backpressure). */
const MAX_IN_FLIGHT = 4 * 1024 * 1024;
const DATA = 0;
const ERROR = 1;

interface Transfer {
  bytes: number;
  seconds: number;
  mbPerSecond: number;
}

function transfer(bytes: number, elapsedMs: number): Transfer {
  const seconds = elapsedMs / 1000;
  return { bytes, seconds: round(seconds, 3), mbPerSecond: round(bytes / 1e6 / seconds, 1) };
}

function request(totalBytes: number): Buffer {
  return Buffer.from(`POST /upload HTTP/1.1\r\nHost: localhost:${TARGET_PORT}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${totalBytes}\r\n\r\n`, 'latin1');
}

/** The upload through the tunnel: resolves once the simulated port's answer has come back. */
async function throughTunnel(ws: WebSocket, totalBytes: number, chunk: Buffer): Promise<Transfer> {
  // The server's first message on each channel is the port number; then the answer arrives on the data channel.
  let prefixes = 0;
  let answer = '';
  let answered: () => void = () => undefined;
  let failed: (error: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    answered = resolve;
    failed = reject;
    ws.once('close', () => reject(new Error(`the tunnel closed before the answer; got ${JSON.stringify(answer.slice(0, 200))}`)));
  });
  done.catch(() => undefined); // awaited below; a failure while still sending must not go unhandled
  ws.on('message', (data: Buffer) => {
    if (prefixes < 2) {
      prefixes++;
      return;
    }
    if (data[0] === ERROR) failed(new Error(`port-forward error: ${data.subarray(1).toString('utf8')}`));
    if (data[0] === DATA) {
      answer += data.subarray(1).toString('latin1');
      if (/\r\n\r\n/.test(answer)) answered();
    }
  });
  const started = nowMs();
  const send = (payload: Buffer): Promise<void> => new Promise((resolve, reject) => ws.send(Buffer.concat([Buffer.of(DATA), payload]), (error) => (error ? reject(error) : resolve())));
  await send(request(totalBytes));
  let sent = 0;
  const pending: Promise<void>[] = [];
  while (sent < totalBytes) {
    const piece = totalBytes - sent >= chunk.length ? chunk : chunk.subarray(0, totalBytes - sent);
    pending.push(send(piece));
    sent += piece.length;
    if (ws.bufferedAmount > MAX_IN_FLIGHT) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await done;
  const elapsed = nowMs() - started;
  if (!answer.startsWith('HTTP/1.1 200 OK')) throw new Error(`unexpected answer: ${answer.slice(0, 200)}`);
  return transfer(totalBytes, elapsed);
}

/** The same bytes over a direct loopback TCP connection to a server that drops them and answers at the end. */
async function directCopy(totalBytes: number, chunk: Buffer): Promise<Transfer> {
  const server = net.createServer((socket) => {
    let received = 0;
    socket.on('data', (data: Buffer) => {
      received += data.length;
      if (received >= totalBytes) socket.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const started = nowMs();
    let sent = 0;
    while (sent < totalBytes) {
      const piece = totalBytes - sent >= chunk.length ? chunk : chunk.subarray(0, totalBytes - sent);
      sent += piece.length;
      if (!socket.write(piece)) await new Promise<void>((resolve) => socket.once('drain', resolve));
    }
    await answered;
    const elapsed = nowMs() - started;
    socket.destroy();
    return transfer(totalBytes, elapsed);
  } finally {
    server.close();
  }
}

export function runPortForward(common: CommonOptions, options: PortForwardOptions): Promise<ScenarioReport> {
  return runScenario('port-forward', common, async (context) => {
    const target = await startStreamingTarget(context);
    try {
      const totalBytes = options.megabytes * 1024 * 1024;
      const chunk = Buffer.alloc(options.chunkKib * 1024, 0x6b);
      context.progress.phase('direct loopback copy, then the tunnel', 2);
      const direct = await directCopy(totalBytes, chunk);
      context.progress.update(1);
      const ws = await target.connect(`/api/v1/namespaces/${BENCH_NAMESPACE}/pods/${TARGET_POD}/portforward?ports=${TARGET_PORT}`, ['v4.channel.k8s.io']);
      let tunnel: Transfer;
      try {
        tunnel = await throughTunnel(ws, totalBytes, chunk);
      } finally {
        ws.terminate();
      }
      context.progress.update(2);
      return {
        params: { ...options },
        results: { ...tunnel },
        baseline: { ...direct },
        ratioMetric: 'mbPerSecond',
        targets: { [`>= ${TARGET_MB_PER_SECOND} MB/s through the tunnel`]: tunnel.mbPerSecond >= TARGET_MB_PER_SECOND },
      };
    } finally {
      await target.stop();
    }
  });
}
