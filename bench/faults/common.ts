/**
 * Shared pieces of the fault-injection run: the ledger of trials and their outcomes, running the CLI as a child
 * with a time limit, and judging a thrown error or a CLI exit.
 *
 * Outcomes:
 *   survived  the input was refused with a typed error naming the file, or accepted and read correctly;
 *             a killed job resumed (or re-ran) to exactly the reference result
 *   lost      work acknowledged before a kill is gone, or a killed job cannot be resumed or re-run
 *   wrong     an output is corrupt or differs from the reference; a bad input was accepted; a good one refused
 *   stack     a crash: an untyped error or "internal error" with a stack trace
 *   unnamed   a typed error whose message does not name the file at fault
 *   hang      no answer within the time limit
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AttuneError } from '../../src/util/errors.js';
import { isAttuneTemp } from '../../src/util/atomic.js';

export type Outcome = 'survived' | 'lost' | 'wrong' | 'stack' | 'unnamed' | 'hang';
export const OUTCOMES: Outcome[] = ['survived', 'lost', 'wrong', 'stack', 'unnamed', 'hang'];

export interface Trial {
  group: string;
  name: string;
  outcome: Outcome;
  detail: string;
}

export class Ledger {
  readonly trials: Trial[] = [];
  constructor(private readonly verbose: boolean) {}

  add(group: string, name: string, outcome: Outcome, detail = ''): void {
    this.trials.push({ group, name, outcome, detail });
    if (this.verbose || outcome !== 'survived')
      process.stderr.write(
        `  ${outcome === 'survived' ? 'ok  ' : 'FAIL'} ${group}/${name}: ${outcome}${detail ? ` (${detail.split('\n')[0].slice(0, 300)})` : ''}\n`,
      );
  }

  counts(filter: (t: Trial) => boolean = () => true): Record<Outcome | 'tried', number> {
    const c = Object.fromEntries([['tried', 0], ...OUTCOMES.map((o) => [o, 0])]) as Record<Outcome | 'tried', number>;
    for (const t of this.trials.filter(filter)) {
      c.tried++;
      c[t.outcome]++;
    }
    return c;
  }
}

export const CLI = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  pid: number;
  ms: number;
}

export interface CliRun {
  pid: number;
  done: Promise<CliResult>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `attune ...args` as a child (no shell); `done` settles on exit or after `timeoutMs` (then SIGKILL). */
export function startCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): CliRun {
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    if (stdout.length < 1 << 20) stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 1 << 20) stderr += c.toString();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 300_000);
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, pid: child.pid ?? -1, ms: Date.now() - t0 });
    });
  });
  return { pid: child.pid ?? -1, done, kill: (signal = 'SIGKILL') => child.kill(signal) };
}

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return startCli(args, opts).done;
}

const STACK = /\n\s+at |internal error|RangeError|TypeError|ReferenceError/;

/** Whether `message` names `file` (its path as given, or its base name). */
export function names(message: string, file: string): boolean {
  return message.includes(file) || message.includes(basename(file));
}

/** Judges an error thrown by a reader for an input that must be refused. */
export function judgeThrown(err: unknown, file: string): { outcome: Outcome; detail: string } {
  const msg = err instanceof Error ? err.message : String(err);
  if (!(err instanceof AttuneError))
    return { outcome: 'stack', detail: `${err instanceof Error ? err.name : typeof err}: ${msg}` };
  if (!names(msg, file)) return { outcome: 'unnamed', detail: msg };
  if (msg.length > 1000) return { outcome: 'wrong', detail: `message of ${msg.length} characters` };
  return { outcome: 'survived', detail: msg };
}

/** Judges a CLI run that must be refused: exit 2, one short line naming the file, no stack. */
export function judgeCliRefusal(r: CliResult, file: string): { outcome: Outcome; detail: string } {
  if (r.timedOut) return { outcome: 'hang', detail: `no exit after ${r.ms} ms` };
  if (STACK.test(r.stderr)) return { outcome: 'stack', detail: r.stderr.trim() };
  if (r.code === 0) return { outcome: 'wrong', detail: 'accepted (exit 0)' };
  if (!names(r.stderr + r.stdout, file)) return { outcome: 'unnamed', detail: r.stderr.trim() };
  return { outcome: 'survived', detail: r.stderr.trim().split('\n')[0] };
}

/** Attune temp files (orphans of killed writers) anywhere under `dir`. */
export function tempFilesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (isAttuneTemp(e.name) || /\.tmp(\.[a-z0-9]+)?$/i.test(e.name)) found.push(join(d, e.name));
    }
  };
  walk(dir);
  return found;
}

/** Races a promise against a time limit. */
export async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
): Promise<{ value?: T; error?: unknown; timedOut: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    const r = await Promise.race([p.then((value) => ({ value })), limit]);
    if (r === 'timeout') return { timedOut: true };
    return { value: r.value, timedOut: false };
  } catch (error) {
    return { error, timedOut: false };
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
