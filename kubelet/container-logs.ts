// Per-container in-memory logs of what the simulated runtime did, kept for the current and the previous instance
// (what `kubectl logs` and `kubectl logs --previous` read), with followers for `follow=true`.
import { EventEmitter } from 'node:events';

export interface LogLine {
  timeMs: number;
  /** Nanosecond-style RFC 3339 timestamp, as the CRI log format carries. */
  timestamp: string;
  text: string;
}

/** Lines kept per instance; older ones drop off like a rotated log file. */
const MAX_LINES_PER_INSTANCE = 10_000;

export class ContainerLogInstance extends EventEmitter {
  readonly lines: LogLine[] = [];
  finished = false;

  append(text: string, timeMs = Date.now()): void {
    if (this.finished) return;
    const line: LogLine = { timeMs, timestamp: rfc3339Nano(timeMs), text };
    this.lines.push(line);
    if (this.lines.length > MAX_LINES_PER_INSTANCE) this.lines.shift();
    this.emit('line', line);
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.emit('finish');
  }
}

/** `2024-05-01T10:00:00.123000000Z`: millisecond clock padded to the nanosecond format the kubelet emits. */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

interface ContainerLogs {
  current?: ContainerLogInstance;
  previous?: ContainerLogInstance;
}

/** Logs of the pods on one node, by `namespace/pod` and container name. */
export class NodeLogStore {
  private readonly pods = new Map<string, Map<string, ContainerLogs>>();

  private key(namespace: string, pod: string): string {
    return `${namespace}/${pod}`;
  }

  /** Begins a new container instance; the running one (if any) becomes the previous. */
  startInstance(namespace: string, pod: string, container: string): ContainerLogInstance {
    const key = this.key(namespace, pod);
    let containers = this.pods.get(key);
    if (!containers) {
      containers = new Map();
      this.pods.set(key, containers);
    }
    const logs = containers.get(container) ?? {};
    if (logs.current) {
      logs.current.finish();
      logs.previous = logs.current;
    }
    logs.current = new ContainerLogInstance();
    containers.set(container, logs);
    return logs.current;
  }

  get(namespace: string, pod: string, container: string, previous: boolean): ContainerLogInstance | undefined {
    const logs = this.pods.get(this.key(namespace, pod))?.get(container);
    return previous ? logs?.previous : logs?.current;
  }

  hasPod(namespace: string, pod: string): boolean {
    return this.pods.has(this.key(namespace, pod));
  }

  /** The pod is gone: followers end and the lines are dropped. */
  removePod(namespace: string, pod: string): void {
    const key = this.key(namespace, pod);
    for (const logs of this.pods.get(key)?.values() ?? []) {
      logs.current?.finish();
      logs.previous?.finish();
    }
    this.pods.delete(key);
  }
}

export interface LogQuery {
  tailLines?: number;
  timestamps?: boolean;
  sinceMs?: number;
  limitBytes?: number;
}

export function formatLogLine(line: LogLine, timestamps: boolean): string {
  return timestamps ? `${line.timestamp} ${line.text}\n` : `${line.text}\n`;
}

/** The lines a non-following read returns (or a follow starts with). */
export function selectLines(lines: readonly LogLine[], query: LogQuery): LogLine[] {
  let selected = query.sinceMs === undefined ? [...lines] : lines.filter((line) => line.timeMs >= query.sinceMs!);
  if (query.tailLines !== undefined && query.tailLines >= 0) selected = query.tailLines === 0 ? [] : selected.slice(-query.tailLines);
  return selected;
}
