// What RemoteCommand (exec and attach) is, whatever carries it: the streams a client asks for, the process's outcome
// and the Status the kubelet reports it with (pkg/kubelet/cri/streaming/remotecommand: exec.go, attach.go,
// httpstream.go). Two framings carry one session: WebSocket channels (websocket-remote-command.ts) and SPDY streams
// (spdy-remote-command.ts); both run the same simulated process through `runCommand`.
import type { ProcessIo } from '../shell/io.ts';

export interface StreamSelection {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The outcome of a remote command: an exit code, or an error the runtime hit (written as an InternalError). */
export type CommandOutcome = { exitCode: number; argv: string[] } | { error: string };

export type TerminalSize = { width: number; height: number };

/** The process a session runs: its streams, the abort signal (the client went away) and terminal resizes. */
export type RunCommand = (
  io: ProcessIo, signal: AbortSignal, onResize: (listener: (size: TerminalSize) => void) => void,
) => Promise<CommandOutcome>;

/** Most bytes of stdin queued before the connection stops reading from the client. */
export const STDIN_HIGH_WATER = 4 * 1024 * 1024;

/** metav1.Status as the kubelet writes it (fields in Go's order, empty ones omitted as json.Marshal omits them). */
export interface ErrorStreamStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason?: string; message: string }[] };
  code?: number;
}

/** The Status the kubelet writes on the error stream (pkg/kubelet/cri/streaming/remotecommand/exec.go). */
export function exitStatus(outcome: CommandOutcome): ErrorStreamStatus {
  if ('error' in outcome) {
    const cause = `error executing command in container: ${outcome.error}`;
    return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${cause}`, reason: 'InternalError', details: { causes: [{ message: cause }] }, code: 500 };
  }
  if (outcome.exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {}, status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${outcome.argv.join(' ')}], exit code ${outcome.exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(outcome.exitCode) }] },
  };
}

/**
 * What goes on the error stream for `protocol`: from v4 on, the Status as JSON, success included (v4WriteStatusFunc);
 * before v4 only a failure's message, and nothing on success (v1WriteStatusFunc).
 */
export function errorStreamPayload(protocol: string, outcome: CommandOutcome): string | undefined {
  const status = exitStatus(outcome);
  if (protocol === 'v5.channel.k8s.io' || protocol === 'v4.channel.k8s.io') return JSON.stringify(status);
  return status.status === 'Success' ? undefined : status.message;
}

/** Runs the session's process; a runtime failure (a thrown error) becomes the InternalError outcome. */
export async function runCommand(
  run: RunCommand, io: ProcessIo, signal: AbortSignal, onResize: (listener: (size: TerminalSize) => void) => void,
): Promise<CommandOutcome> {
  try {
    return await run(io, signal, onResize);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** A resize message ({"Width":…,"Height":…}); anything undecodable is ignored, as the kubelet ignores it. */
export function decodeTerminalSize(text: string): TerminalSize | undefined {
  try {
    const size = JSON.parse(text) as { Width?: number; Height?: number };
    if (typeof size !== 'object' || size === null) return undefined;
    return { width: Number(size.Width) || 0, height: Number(size.Height) || 0 };
  } catch {
    return undefined;
  }
}
