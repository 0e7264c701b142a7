import cliProgress from 'cli-progress';

/**
 * Progress for anything that takes more than a few seconds. On a terminal it draws a bar on stderr
 * (steps/s, ETA and custom fields such as loss); elsewhere (CI, pipes) it prints a plain line at most
 * every `intervalMs`, so logs stay readable. Disabled entirely with `quiet` (e.g. under --json when
 * stderr is not a terminal).
 */
export interface ProgressOptions {
  label: string;
  total: number;
  quiet?: boolean;
  intervalMs?: number;
  stream?: NodeJS.WriteStream;
}

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private value = 0;
  private fields: Record<string, string | number> = {};
  private readonly started = Date.now();
  private lastLine = 0;
  private readonly opts: Required<Omit<ProgressOptions, 'stream'>> & { stream: NodeJS.WriteStream };

  constructor(opts: ProgressOptions) {
    this.opts = { quiet: false, intervalMs: 2000, stream: process.stderr, ...opts };
    if (!this.opts.quiet && this.opts.stream.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${opts.label} |{bar}| {value}/{total} {rate}/s ETA {eta_formatted} {extra}`,
          stream: this.opts.stream,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(opts.total, 0, { rate: '0.0', extra: '' });
    }
  }

  /** Advances by `n` and optionally updates named fields shown after the bar (e.g. { loss: 0.123 }). */
  tick(n = 1, fields?: Record<string, string | number>): void {
    this.update(this.value + n, fields);
  }

  update(value: number, fields?: Record<string, string | number>): void {
    this.value = value;
    if (fields) Object.assign(this.fields, fields);
    if (this.opts.quiet) return;
    const extra = Object.entries(this.fields)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : v}`)
      .join(' ');
    const rate = (this.value / Math.max(1e-3, (Date.now() - this.started) / 1000)).toFixed(1);
    if (this.bar) {
      this.bar.update(value, { rate, extra });
      return;
    }
    const now = Date.now();
    if (now - this.lastLine >= this.opts.intervalMs || value >= this.opts.total) {
      this.lastLine = now;
      this.opts.stream.write(`${this.opts.label}: ${value}/${this.opts.total} (${rate}/s) ${extra}\n`);
    }
  }

  finish(fields?: Record<string, string | number>): void {
    this.update(this.opts.total, fields);
    this.bar?.stop();
  }
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}
