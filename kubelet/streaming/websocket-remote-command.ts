// The RemoteCommand protocol over WebSocket, server side, as the kubelet's streaming server speaks it
// (k8s.io/apimachinery/pkg/util/remotecommand, wsstream): subprotocols v5.channel.k8s.io and v4.channel.k8s.io; every
// binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize. When the process ends,
// its exit status goes on the error channel as a metav1.Status (Success, or Failure/NonZeroExitCode with the code as
// an ExitCode cause) and the connection closes normally. v5 adds the CLOSE signal (channel 255, then the id of the
// stream the client finished writing), which is how stdin reaches EOF (`kubectl cp` into a pod depends on it).
// The unversioned channel.k8s.io (v1) has the same channels; its error channel carries only a failure's text.
import type { WebSocket } from 'ws';
import { QueuedInput, type ProcessIo, type ProcessOutput } from '../shell/io.ts';
import {
  decodeTerminalSize, errorStreamPayload, runCommand, STDIN_HIGH_WATER, type RunCommand, type StreamSelection, type TerminalSize,
} from './remote-command.ts';

/** In preference order; channel.k8s.io (v1) is what the conformance suite's raw WebSocket client offers. */
export const REMOTE_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'] as const;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

/** Runs one process over an accepted WebSocket; its outcome becomes the error-channel Status. */
export async function serveRemoteCommand(ws: WebSocket, streams: StreamSelection, run: RunCommand): Promise<void> {
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
      const size = decodeTerminalSize(raw.subarray(1).toString('utf8'));
      if (size) resizeListener?.(size);
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
  const outcome = await runCommand(run, io, aborted.signal, (listener) => {
    resizeListener = listener;
  });
  if (ws.readyState === ws.OPEN) {
    const payload = errorStreamPayload(ws.protocol, outcome);
    if (payload !== undefined) send(ERROR, payload);
    ws.close(1000);
  }
}
