// What state a pod is shown in, as kubectl's STATUS column derives it (printPod in
// pkg/printers/internalversion/printers.go, shortened to the states the view colours), and the
// colours: each has at least 3:1 contrast with the page background (WCAG 1.4.11 for graphics),
// checked by the browser test.

export type PodState = 'Pending' | 'ContainerCreating' | 'Running' | 'CrashLoopBackOff' | 'Waiting' | 'Terminating' | 'Failed' | 'Succeeded';

export const POD_STATES: PodState[] = ['Pending', 'ContainerCreating', 'Running', 'CrashLoopBackOff', 'Waiting', 'Terminating', 'Failed', 'Succeeded'];

export const STATE_COLOURS: Record<PodState, string> = {
  Pending: '#8a6d00',
  ContainerCreating: '#0b61a4',
  Running: '#1a7f37',
  CrashLoopBackOff: '#cf222e',
  Waiting: '#bc4c00',
  Terminating: '#6e40c9',
  Failed: '#6e1a1a',
  Succeeded: '#57606a',
};

export const STATE_DESCRIPTIONS: Record<PodState, string> = {
  Pending: 'not yet scheduled or started',
  ContainerCreating: 'images pulling, containers being created',
  Running: 'running',
  CrashLoopBackOff: 'a container keeps exiting and is restarted with back-off',
  Waiting: 'a container cannot start (image, configuration)',
  Terminating: 'being deleted',
  Failed: 'all containers ended, at least one failed',
  Succeeded: 'all containers ended successfully',
};

interface ContainerStatusLike {
  ready?: boolean;
  state?: { waiting?: { reason?: string }; running?: unknown; terminated?: { reason?: string; exitCode?: number } };
}

export interface PodLike {
  metadata: { deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string; reason?: string; containerStatuses?: ContainerStatusLike[]; initContainerStatuses?: ContainerStatusLike[] };
}

export function podState(pod: PodLike): PodState {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  const status = pod.status ?? {};
  if (status.phase === 'Succeeded') return 'Succeeded';
  if (status.phase === 'Failed') return 'Failed';
  const waiting = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]
    .map((c) => c.state?.waiting?.reason)
    .filter((reason): reason is string => !!reason);
  if (waiting.includes('CrashLoopBackOff')) return 'CrashLoopBackOff';
  const other = waiting.find((reason) => reason !== 'ContainerCreating' && reason !== 'PodInitializing');
  if (other) return 'Waiting';
  if (!pod.spec?.nodeName) return 'Pending';
  if (waiting.length > 0) return 'ContainerCreating';
  if (status.phase === 'Running') return 'Running';
  return status.containerStatuses?.length ? 'Running' : 'ContainerCreating';
}

/** kubectl's READY column: ready containers / containers. */
export function readyText(pod: { spec?: { containers?: unknown[] }; status?: { containerStatuses?: ContainerStatusLike[] } }): string {
  const total = pod.spec?.containers?.length ?? 0;
  const ready = (pod.status?.containerStatuses ?? []).filter((c) => c.ready).length;
  return `${ready}/${total}`;
}

/** The relative luminance contrast ratio of two #rrggbb colours (WCAG 2). */
export function contrastRatio(a: string, b: string): number {
  const luminance = (hex: string): number => {
    const channel = (i: number): number => {
      const c = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}
