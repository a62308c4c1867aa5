// Entry points the kubelet's streaming server uses: run an exec'd command, or the container's own process for
// attach, inside a simulated container instance.
import type { ContainerInstance } from './container-instance.ts';
import type { ShellContext } from './context.ts';
import type { ProcessIo } from './io.ts';
import { runProgram } from './shell.ts';

export interface ProcessSession {
  io: ProcessIo;
  tty: boolean;
  signal: AbortSignal;
}

function contextFor(instance: ContainerInstance, session: ProcessSession): ShellContext {
  const container = instance.input.container;
  return {
    instance, io: session.io, tty: session.tty, signal: session.signal,
    state: { env: instance.environment(session.tty), cwd: container.workingDir ? container.workingDir : '/', status: 0 },
  };
}

/** What `kubectl exec pod -- argv…` runs; resolves to the exit code. */
export async function execInContainer(instance: ContainerInstance, argv: string[], session: ProcessSession): Promise<number> {
  return runProgram(argv, contextFor(instance, session), 'exec');
}
