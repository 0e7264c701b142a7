/**
 * Turns SIGINT/SIGTERM (and an optional AbortSignal) into a flag the training loop checks between
 * steps: the loop then writes a checkpoint and returns, so an interrupted run is always resumable.
 * A second signal while the first is being handled exits at once (code 130), for a stuck run.
 */
export class StopSignal {
  requested = false;
  reason = '';
  private readonly handlers: [NodeJS.Signals, () => void][] = [];
  private readonly onAbort?: () => void;

  constructor(private readonly opts: { signals: boolean; abort?: AbortSignal; onRequest?: (reason: string) => void }) {
    if (opts.signals) {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) {
        const handler = () => this.trigger(sig);
        process.on(sig, handler);
        this.handlers.push([sig, handler]);
      }
    }
    if (opts.abort) {
      if (opts.abort.aborted) this.request('abort');
      this.onAbort = () => this.request('abort');
      opts.abort.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** What a signal handler does: the first asks for a clean stop, the second exits immediately. */
  trigger(sig: NodeJS.Signals): void {
    if (this.requested) {
      process.stderr.write(`\nattune: second ${sig}, exiting without a checkpoint\n`);
      process.exit(130);
    }
    process.stderr.write(
      `\nattune: ${sig} received; saving a checkpoint after the current step and stopping (send again to exit at once)\n`,
    );
    this.request(sig);
  }

  request(reason: string): void {
    if (this.requested) return;
    this.requested = true;
    this.reason = reason;
    this.opts.onRequest?.(reason);
  }

  dispose(): void {
    for (const [sig, handler] of this.handlers) process.off(sig, handler);
    this.handlers.length = 0;
    if (this.onAbort) this.opts.abort?.removeEventListener('abort', this.onAbort);
  }
}
