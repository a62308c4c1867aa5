// A control-plane component's own log, kept in memory so the kubelet can serve it as the log of the component's
// mirror pod (`kubectl logs -n kube-system kube-scheduler-node01`), while it is also written to stderr as before.
// Lines are klog's text format: `I1208 00:46:01.123456    4242 kube-scheduler] "Successfully bound pod to node"
// pod="default/web" node="node01"` — severity and date, time to the microsecond, the process id, where the line
// comes from (the component: kubefacade has no Go file:line), then the message and its key="value" pairs.
// Verbosity is klog's --v: a line logged at level N is kept only when N ≤ the component's --v.

import { EventEmitter } from 'node:events';

export interface ComponentLogLine {
  timeMs: number;
  /** Nanosecond-style RFC 3339 timestamp, as the CRI log format carries (what `kubectl logs --timestamps` shows). */
  timestamp: string;
  text: string;
}

/** Lines kept per component; older ones drop off like a rotated log file. */
const MAX_LINES = 10_000;

function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** One component's log: the same shape as a container's log instance, which the kubelet's log server streams. */
export class ComponentLog extends EventEmitter {
  readonly lines: ComponentLogLine[] = [];
  finished = false;

  constructor(readonly component: string) {
    super();
    this.setMaxListeners(0);
  }

  append(text: string, timeMs = Date.now()): void {
    if (this.finished) return;
    const line: ComponentLogLine = { timeMs, timestamp: rfc3339Nano(timeMs), text };
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.shift();
    this.emit('line', line);
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.emit('finish');
  }
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** klog's value formatting: strings quoted, numbers and booleans bare, anything else as JSON. */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? 'null';
}

/** One line in klog's text format (severity I, W or E). */
export function klogLine(severity: 'I' | 'W' | 'E', source: string, message: string, fields?: Record<string, unknown>, atMs = Date.now()): string {
  const at = new Date(atMs);
  const header = `${severity}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}.${pad(at.getUTCMilliseconds(), 3)}000 ${String(process.pid).padStart(7)} ${source}]`;
  const pairs = fields ? Object.entries(fields).map(([key, value]) => ` ${key}=${formatValue(value)}`).join('') : '';
  return `${header} ${fields ? JSON.stringify(message) : message}${pairs}`;
}

/** A component's logger: structured like the scheduler's (message + fields), plain like the controllers'. */
export interface LeveledLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** klog's V(level): a logger that logs only when level ≤ --v. */
  v(level: number): { info(message: string, fields?: Record<string, unknown>): void; enabled: boolean };
}

/**
 * A logger that appends klog lines to `log` and, unless `quiet`, writes them to stderr. `verbosity` is --v (0 by
 * default: only V(0) lines).
 */
export function componentLogger(log: ComponentLog, options: { verbosity?: number; quiet?: boolean; source?: string } = {}): LeveledLogger {
  const verbosity = options.verbosity ?? 0;
  const source = options.source ?? log.component;
  const write = (severity: 'I' | 'W' | 'E', message: string, fields?: Record<string, unknown>): void => {
    const line = klogLine(severity, source, message, fields);
    log.append(line);
    if (!options.quiet) process.stderr.write(`${line}\n`);
  };
  const disabled = { info: () => undefined, enabled: false };
  return {
    info: (message, fields) => write('I', message, fields),
    warn: (message, fields) => write('W', message, fields),
    error: (message, fields) => write('E', message, fields),
    v: (level) => (level <= verbosity ? { info: (message, fields) => write('I', message, fields), enabled: true } : disabled),
  };
}
