// The RemoteCommand protocol over WebSocket, server side, as the kubelet's streaming server speaks it
// (k8s.io/apimachinery/pkg/util/remotecommand, wsstream): subprotocols v5.channel.k8s.io and v4.channel.k8s.io; every
// binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize. When the process ends,
// its exit status goes on the error channel as a metav1.Status (Success, or Failure/NonZeroExitCode with the code as
// an ExitCode cause) and the connection closes normally. v5 adds the CLOSE signal (channel 255, then the id of the
// stream the client finished writing), which is how stdin reaches EOF (`kubectl cp` into a pod depends on it).
// The unversioned channel.k8s.io (v1) has the same channels; its error channel carries only a failure's text.
import type { WebSocket } from 'ws';
import { QueuedInput, type ProcessIo, type ProcessOutput } from '../shell/io.ts';

/** In preference order; channel.k8s.io (v1) is what the conformance suite's raw WebSocket client offers. */
export const REMOTE_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'] as const;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

export interface StreamSelection {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The outcome of a remote command: an exit code, or an error the runtime hit (written as an InternalError). */
export type CommandOutcome = { exitCode: number; argv: string[] } | { error: string };

export type TerminalSize = { width: number; height: number };

/** metav1.Status as the kubelet writes it on the error channel (pkg/kubelet/cri/streaming/remotecommand/exec.go). */
export function exitStatus(outcome: CommandOutcome): object {
  if ('error' in outcome) {
    const message = `Internal error occurred: error executing command in container: ${outcome.error}`;
    return { metadata: {}, status: 'Failure', message, reason: 'InternalError', details: { causes: [{ message: `error executing command in container: ${outcome.error}` }] }, code: 500 };
  }
  if (outcome.exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {}, status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${outcome.argv.join(' ')}], exit code ${outcome.exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(outcome.exitCode) }] },
  };
}

/** Most bytes of stdin queued before the connection stops reading from the client. */
const STDIN_HIGH_WATER = 4 * 1024 * 1024;

/**
 * Runs one process over an accepted WebSocket. `run` gets the process's streams, the abort signal (the client went
 * away: everything is freed at once) and terminal resizes; its outcome becomes the error-channel Status.
 */
export async function serveRemoteCommand(
  ws: WebSocket, streams: StreamSelection,
  run: (io: ProcessIo, signal: AbortSignal, onResize: (listener: (size: TerminalSize) => void) => void) => Promise<CommandOutcome>,
): Promise<void> {
  const aborted = new AbortController();
  const stdin = new QueuedInput();
  if (!streams.stdin) stdin.end();
  let resizeListener: ((size: TerminalSize) => void) | undefined;
  const send = (channel: number, data: Buffer | string): void => {
    if (ws.readyState !== ws.OPEN) return;
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    if (body.length === 0) return;
    ws.send(Buffer.concat([Buffer.of(channel), body]));
  };
  const output = (channel: number, enabled: boolean): ProcessOutput => ({ write: (data) => { if (enabled) send(channel, data); } });
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    // A malformed frame (text, empty, unknown channel) is dropped; it never takes the session down.
    if (!isBinary || raw.length === 0) return;
    const channel = raw[0];
    if (channel === STDIN && streams.stdin) {
      stdin.push(Buffer.from(raw.subarray(1)));
      if (stdin.queuedBytes > STDIN_HIGH_WATER) (ws as unknown as { _socket?: { pause(): void } })._socket?.pause();
    } else if (channel === RESIZE) {
      try {
        const size = JSON.parse(raw.subarray(1).toString('utf8')) as { Width?: number; Height?: number };
        resizeListener?.({ width: Number(size.Width) || 0, height: Number(size.Height) || 0 });
      } catch {
        // Not JSON: ignored, as the kubelet ignores an undecodable resize.
      }
    } else if (channel === CLOSE && ws.protocol === 'v5.channel.k8s.io' && raw[1] === STDIN) {
      stdin.end();
    }
  });
  ws.on('close', () => {
    aborted.abort();
    stdin.end();
  });
  ws.on('error', () => aborted.abort());
  const io: ProcessIo = {
    stdin: {
      read: async () => {
        const chunk = await stdin.read();
        if (stdin.queuedBytes < STDIN_HIGH_WATER / 2) (ws as unknown as { _socket?: { resume(): void } })._socket?.resume();
        return chunk;
      },
    },
    stdout: output(STDOUT, streams.stdout),
    // With a TTY, stderr is the terminal too (one stream, as a runtime with a pty has).
    stderr: streams.tty ? output(STDOUT, streams.stdout) : output(STDERR, streams.stderr),
  };
  let outcome: CommandOutcome;
  try {
    outcome = await run(io, aborted.signal, (listener) => {
      resizeListener = listener;
    });
  } catch (error) {
    outcome = { error: error instanceof Error ? error.message : String(error) };
  }
  if (ws.readyState === ws.OPEN) {
    if (ws.protocol === 'v5.channel.k8s.io' || ws.protocol === 'v4.channel.k8s.io') send(ERROR, JSON.stringify(exitStatus(outcome)));
    else if ('error' in outcome || outcome.exitCode !== 0) send(ERROR, (exitStatus(outcome) as { message: string }).message);
    ws.close(1000);
  }
}
