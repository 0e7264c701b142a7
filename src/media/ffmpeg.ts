import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, existsSync, constants as fsConstants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { MediaError } from '../util/errors.js';

/**
 * Locating and running the ffmpeg / ffprobe binaries.
 *
 * Resolution order for each tool: the env var (ATTUNE_FFMPEG / ATTUNE_FFPROBE), then the binary shipped in the
 * npm package (@ffmpeg-installer/ffmpeg, @ffprobe-installer/ffprobe), then the first match on PATH.
 */
export type FfTool = 'ffmpeg' | 'ffprobe';

const ENV_VAR: Record<FfTool, string> = { ffmpeg: 'ATTUNE_FFMPEG', ffprobe: 'ATTUNE_FFPROBE' };
const NPM_PACKAGE: Record<FfTool, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};
const resolved = new Map<FfTool, BinarySource>();

/** Where a tool was found: the env var, the npm package that ships it, or PATH. */
export interface BinarySource {
  path: string;
  from: 'env' | 'npm' | 'PATH';
  /** The env var or npm package name ('PATH' for PATH). */
  via: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fromNpmPackage(tool: FfTool): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const mod = require(NPM_PACKAGE[tool]) as { path?: string };
    if (!mod.path || !existsSync(mod.path)) return undefined;
    // The platform packages mark the binary executable in a postinstall (chmod u+x) that npm skips under
    // --ignore-scripts or when dependency scripts are not approved (npm 12 blocks them by default): do it here.
    if (!isExecutable(mod.path)) {
      try {
        chmodSync(mod.path, 0o755);
      } catch {
        // read-only install: fall through to PATH
      }
    }
    return isExecutable(mod.path) ? mod.path : undefined;
  } catch {
    // The installer packages throw a plain string on unsupported platforms; fall through to PATH.
    return undefined;
  }
}

function fromPath(tool: FfTool): string | undefined {
  const exe = process.platform === 'win32' ? `${tool}.exe` : tool;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, exe))) return join(dir, exe);
  }
  return undefined;
}

/** Where ffmpeg or ffprobe comes from (env var, npm package, PATH); throws a MediaError saying where it looked. */
export function binarySource(tool: FfTool): BinarySource {
  const envValue = process.env[ENV_VAR[tool]];
  if (envValue) {
    if (!isExecutable(envValue)) {
      throw new MediaError(`${ENV_VAR[tool]}=${envValue} is not an executable file`, { tool, env: ENV_VAR[tool] });
    }
    return { path: envValue, from: 'env', via: ENV_VAR[tool] };
  }
  const cached = resolved.get(tool);
  if (cached) return cached;
  const npm = fromNpmPackage(tool);
  const onPath = npm ? undefined : fromPath(tool);
  const found: BinarySource | undefined = npm
    ? { path: npm, from: 'npm', via: NPM_PACKAGE[tool] }
    : onPath
      ? { path: onPath, from: 'PATH', via: 'PATH' }
      : undefined;
  if (!found) {
    throw new MediaError(
      `cannot find ${tool}: set ${ENV_VAR[tool]}, reinstall ${NPM_PACKAGE[tool]} (npm install), or put ${tool} on PATH`,
      { tool },
    );
  }
  resolved.set(tool, found);
  return found;
}

/** Absolute path of ffmpeg or ffprobe; throws a MediaError saying where it looked. */
export function binaryPath(tool: FfTool): string {
  return binarySource(tool).path;
}

/**
 * A local file as ffmpeg/ffprobe must be given it: `file:` + the absolute path. A bare name is parsed as a URL, so
 * `concat:a.mp4|b.mp4`, `pipe:0`, `subfile:...` or `http:...` would make ffmpeg read something other than the file
 * Attune checked; `file:` turns every other protocol off. Use it for every path handed to ffmpeg (inputs and outputs).
 */
export function ffFile(path: string): string {
  return `file:${resolve(path)}`;
}

export const ffmpegPath = (): string => binaryPath('ffmpeg');
export const ffprobePath = (): string => binaryPath('ffprobe');

export interface FfRunOptions {
  /** The media file the command is about, named in errors. */
  file?: string;
  /**
   * Bytes written to the child's stdin (then closed); pass '-i pipe:0' in args to read them. 'pipe' leaves stdin
   * open for the caller to write to `FfProcess.stdin` (streaming frames in); end it when done.
   */
  stdin?: Uint8Array | 'pipe';
  /** Kill the process after this many ms (default: no limit). */
  timeoutMs?: number;
  /** Abort from outside (kills the process). */
  signal?: AbortSignal;
  /** Resolve with the output even on a non-zero exit code (e.g. `ffmpeg -i file` to read its stream summary). */
  allowFailure?: boolean;
}

export interface FfRunResult {
  stdout: Buffer;
  stderr: string;
}

const STDERR_KEEP = 16 * 1024;

/** The last few meaningful lines of ffmpeg's stderr, for error messages. */
export function stderrTail(stderr: string, lines = 4): string {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .slice(-lines)
    .join(' | ');
}

/** Keeps only the end of a growing stderr text, so a chatty child never grows memory. */
class TailBuffer {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > 2 * STDERR_KEEP) this.text = this.text.slice(-STDERR_KEEP);
  }
  toString(): string {
    return this.text.slice(-STDERR_KEEP);
  }
}

function failure(tool: FfTool, opts: FfRunOptions, why: string, stderr: string): MediaError {
  const subject = opts.file ? `${opts.file}: ` : '';
  const tail = stderrTail(stderr);
  return new MediaError(`${subject}${tool} ${why}${tail ? `: ${tail}` : ''}`, {
    file: opts.file,
    tool,
    reason: why,
    stderr: tail,
  });
}

/** A running ffmpeg/ffprobe child whose stdout is consumed as a stream (bounded memory). */
export interface FfProcess {
  child: ChildProcess;
  /** Open only with `stdin: 'pipe'`; write with backpressure (await 'drain') and call end(). */
  stdin: Writable;
  stdout: Readable;
  /** Resolves with the stderr text on exit code 0; rejects with a MediaError otherwise. */
  done: Promise<string>;
  /** Stops the child early (e.g. once enough frames were read); `done` then resolves. */
  stop(): void;
}

/** Starts ffmpeg or ffprobe; the caller reads `stdout` and awaits `done`. */
export function spawnTool(tool: FfTool, args: readonly string[], opts: FfRunOptions = {}): FfProcess {
  const bin = binaryPath(tool);
  const child = spawn(bin, [...args], { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  const stderr = new TailBuffer();
  let stopped = false;
  let timedOut = false;
  child.stderr!.on('data', (c: Buffer) => stderr.push(c));
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs)
    : undefined;
  const onAbort = (): void => {
    stopped = true;
    child.kill('SIGKILL');
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  // A child that exits before reading all of stdin raises EPIPE on our side; its exit code tells the story.
  child.stdin!.on('error', () => undefined);
  if (opts.stdin instanceof Uint8Array) child.stdin!.end(opts.stdin);
  else if (opts.stdin !== 'pipe') child.stdin!.end();

  const done = new Promise<string>((resolve, reject) => {
    child.on('error', (err) => reject(failure(tool, opts, `could not be started (${bin}): ${err.message}`, '')));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const text = stderr.toString();
      if (code === 0 || stopped || (opts.allowFailure && code !== null)) resolve(text);
      else if (timedOut) reject(failure(tool, opts, `timed out after ${opts.timeoutMs} ms`, text));
      else reject(failure(tool, opts, signal ? `was killed by ${signal}` : `exited with code ${code}`, text));
    });
  });
  return {
    child,
    stdin: child.stdin!,
    stdout: child.stdout!,
    done,
    stop() {
      stopped = true;
      child.stdout!.destroy();
      child.kill('SIGKILL');
    },
  };
}

/** Runs ffmpeg/ffprobe to completion, collecting stdout (use for small outputs or for writing files). */
export async function runTool(tool: FfTool, args: readonly string[], opts: FfRunOptions = {}): Promise<FfRunResult> {
  const proc = spawnTool(tool, args, opts);
  const chunks: Buffer[] = [];
  proc.stdout.on('data', (c: Buffer) => chunks.push(c));
  const stderr = await proc.done;
  return { stdout: Buffer.concat(chunks), stderr };
}

/**
 * Runs ffmpeg with the given arguments (e.g. to write an mp4/wav from raw frames or samples fed on stdin).
 * `-hide_banner -nostdin`-style noise control is the caller's choice; '-y' is not added.
 */
export function runFfmpeg(args: readonly string[], opts: FfRunOptions = {}): Promise<FfRunResult> {
  return runTool('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args], opts);
}

/** Runs ffprobe with the given arguments. */
export function runFfprobe(args: readonly string[], opts: FfRunOptions = {}): Promise<FfRunResult> {
  return runTool('ffprobe', ['-hide_banner', '-loglevel', 'error', ...args], opts);
}
