import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';

/**
 * The run log: JSON Lines, one object per event. Every line is written with ONE write() on a file
 * opened for appending (so a crash can cut off at most the last line, never interleave), and the file
 * is fsync'd at evaluations, checkpoints and close. Readers skip a torn last line.
 *
 * Line types (all carry `type`, `step` = optimizer steps so far and `pos` = batches consumed):
 *   {type:'step', epoch, loss, grad_norm, lr, skipped, ...train metrics, time}
 *   {type:'eval', split, epoch, ...metrics (names prefixed by split, e.g. 'val.acc')}
 *   {type:'checkpoint', reason, path} | {type:'diverged', stage, reason} | {type:'start'|'resume'|'stop'|'end', ...}
 */
export type LogLine = { type: string; step: number; pos: number } & Record<string, unknown>;

export class JsonlLog {
  private fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  append(line: LogLine, sync = false): void {
    const text = JSON.stringify(line, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n';
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.byteLength) off += writeSync(this.fd, buf, off, buf.byteLength - off);
    if (sync) fsyncSync(this.fd);
  }

  sync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Reads a log, skipping a torn final line; a bad line elsewhere is an InputError naming it. */
export function readLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: LogLine[] = [];
  lines.forEach((text, i) => {
    if (!text.trim()) return;
    try {
      out.push(JSON.parse(text) as LogLine);
    } catch (err) {
      if (i === lines.length - 1) return; // torn last line (no trailing newline): the crash cut it off
      throw new InputError(`${path}:${i + 1}: not a JSON line (${(err as Error).message})`, {
        file: path,
        line: i + 1,
      });
    }
  });
  return out;
}

/** Lines of the final phase (test evaluation, export, end), which a run resumed after its loop ended redoes. */
export const isFinalPhaseLine = (l: LogLine): boolean =>
  l.type === 'end' || l.type === 'export-failed' || l.type === 'diverged' || (l.type === 'eval' && l.tag === 'final');

/**
 * Keeps only the lines up to a checkpoint (`pos <= pos`), without the final phase, atomically: what a resumed
 * run continues from (so resuming after the loop ended does not log the final evaluation twice).
 */
export function truncateLog(path: string, pos: number): LogLine[] {
  const kept = readLog(path).filter((l) => l.pos <= pos && !isFinalPhaseLine(l));
  writeFileAtomic(path, kept.map((l) => JSON.stringify(l) + '\n').join(''));
  return kept;
}
