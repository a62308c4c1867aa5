// Progress while a scenario runs: a cli-progress bar on stderr when it is a terminal, one line per
// phase otherwise (logs of background runs stay readable), nothing at all with --quiet.

import { SingleBar, Presets } from 'cli-progress';

export interface ProgressOptions {
  quiet: boolean;
  /** Defaults to whether stderr is a terminal. */
  bar?: boolean;
}

export class Progress {
  private bar: SingleBar | undefined;
  private readonly useBar: boolean;
  private phaseStartedAt = 0;
  private label = '';
  private lastLineAt = 0;

  constructor(private readonly options: ProgressOptions) {
    this.useBar = !options.quiet && (options.bar ?? Boolean(process.stderr.isTTY));
  }

  /** Starts a phase counting up to `total` (ends the previous one). */
  phase(label: string, total: number): void {
    this.end();
    this.label = label;
    this.phaseStartedAt = Date.now();
    this.lastLineAt = Date.now();
    if (this.options.quiet) return;
    if (!this.useBar) {
      process.stderr.write(`bench: ${label} (${total})\n`);
      return;
    }
    this.bar = new SingleBar({
      format: '{phase} [{bar}] {value}/{total} {percentage}% | {rate}/s | {duration_formatted}',
      stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 50,
    }, Presets.shades_classic);
    this.bar.start(total, 0, { phase: label.padEnd(28), rate: '0' });
  }

  update(value: number): void {
    if (!this.bar) {
      // Without a terminal: a line every 10 s, so a background run's log shows it is moving.
      if (this.options.quiet || !this.label || Date.now() - this.lastLineAt < 10_000) return;
      this.lastLineAt = Date.now();
      process.stderr.write(`bench: ${this.label}: ${value} after ${((Date.now() - this.phaseStartedAt) / 1000).toFixed(0)} s\n`);
      return;
    }
    const seconds = (Date.now() - this.phaseStartedAt) / 1000;
    this.bar.update(value, { rate: seconds > 0 ? (value / seconds).toFixed(0) : '0' });
  }

  /** A one-off message between phases. */
  note(message: string): void {
    if (this.options.quiet) return;
    if (this.bar) this.bar.stop();
    this.bar = undefined;
    process.stderr.write(`bench: ${message}\n`);
  }

  end(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    } else if (this.label && !this.options.quiet && !this.useBar) {
      process.stderr.write(`bench: ${this.label} done in ${((Date.now() - this.phaseStartedAt) / 1000).toFixed(1)} s\n`);
    }
    this.label = '';
  }
}
