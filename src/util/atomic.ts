/**
 * Atomic writes and their temp files.
 *
 * A temp file is named `.<target>.attune-<pid>-<host>-<rand>.tmp` (an extension may follow, for ffmpeg): it says
 * which process on which machine wrote it, so a later Attune process can tell an orphan (its writer was killed
 * mid-write) from a file another live process is still writing. The first atomic write into a folder by a process
 * removes the orphans of dead processes of this machine there (`cleanStaleTemps`); nothing else is ever removed.
 */
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { hashString } from './rng.js';

const HOST = hashString(hostname()).toString(16).padStart(8, '0');
const TEMP_RE = /^\..+\.attune-(\d+)-([0-9a-f]{8})-[0-9a-z]+\.tmp(\.[A-Za-z0-9]+)?$/;
/** Temp names written before the pid-tagged scheme (`.<name>.<pid>.<ms>.tmp`): still recognized as Attune's. */
const LEGACY_TEMP_RE = /^\..+\.(\d+)\.(\d{12,14})\.tmp$/;

/** A fresh temp path next to `path` (same folder, so the final rename is atomic); `ext` is kept last, e.g. '.mp4'. */
export function tempPathFor(path: string, ext = ''): string {
  const dir = dirname(path);
  const rand = randomBytes(4).toString('hex');
  return join(dir, `.${basename(path)}.attune-${process.pid}-${HOST}-${rand}.tmp${ext}`);
}

/** True when `name` is an Attune temp file name (either scheme). */
export function isAttuneTemp(name: string): boolean {
  return TEMP_RE.test(name) || LEGACY_TEMP_RE.test(name);
}

/** Whether a process with this pid runs on this machine (EPERM: it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes Attune temp files in `dir` whose writer is gone: pid-tagged temps of this machine whose pid is not
 * running, and legacy-named temps older than an hour. Never follows symlinks, never touches other names.
 * Returns the removed names.
 */
export function cleanStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    let stale = false;
    const m = TEMP_RE.exec(name);
    if (m) stale = m[2] === HOST && !pidAlive(Number(m[1]));
    else {
      const legacy = LEGACY_TEMP_RE.exec(name);
      if (legacy) stale = Date.now() - Number(legacy[2]) > 3600_000 || !pidAlive(Number(legacy[1]));
    }
    if (!stale) continue;
    const path = join(dir, name);
    try {
      if (!lstatSync(path).isFile()) continue;
      rmSync(path, { force: true });
      removed.push(name);
    } catch {
      // gone already, or not ours to remove: leave it
    }
  }
  return removed;
}

const swept = new Set<string>();

/** Runs `cleanStaleTemps` once per folder per process (the first time Attune writes there). */
export function sweepOnce(dir: string): void {
  const abs = resolve(dir);
  if (swept.has(abs)) return;
  swept.add(abs);
  cleanStaleTemps(abs);
}

/**
 * Writes a file so that readers see either the old content or the new, never a torn file:
 * temp file in the same directory, fsync, rename over the target, fsync the directory.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string | readonly Uint8Array[]): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  sweepOnce(dir);
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx');
  try {
    const parts = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
    for (const part of parts) {
      const buf = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
      let off = 0;
      while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  }
}

/** JSON with a trailing newline, written atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
