/**
 * Output folders. Attune writes a marker file, `.attune-out.json`, into every folder it creates for its output,
 * and only ever deletes or reuses-as-its-own a folder that carries that marker. A folder without it is the
 * user's: Attune writes into it only when it is empty (then marks it) or when told to (`force`), and never deletes
 * it or anything in it that it did not write.
 *
 *   prepareOutDir(out, { by: 'attune features' })   // create (and mark), or reuse a marked/empty folder
 *   freshOutDir(join(out, 'av-sync'), { by: ... })  // start over: only a marked (or empty) folder is cleared
 */
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeJsonAtomic, sweepOnce, isAttuneTemp } from './atomic.js';
import { InputError } from './errors.js';

export const MARKER = '.attune-out.json';

export interface OutDirOptions {
  /** Who creates it, for the marker and messages (e.g. 'attune demo'). */
  by: string;
  /** Reuse a non-empty folder Attune did not create (writing into it, never deleting from it). */
  force?: boolean;
  /** The option the path came from, for messages (default '--out'). */
  flag?: string;
}

export interface MarkerInfo {
  attune: true;
  by: string;
  created: string;
}

/** The marker of `dir`, or null when it has none (or it is unreadable). */
export function readMarker(dir: string): MarkerInfo | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as Partial<MarkerInfo>;
    return m && typeof m === 'object' && m.attune === true ? (m as MarkerInfo) : null;
  } catch {
    return null;
  }
}

/** True when `dir` exists and carries Attune's marker. */
export function isAttuneOutDir(dir: string): boolean {
  return readMarker(dir) !== null;
}

function mark(dir: string, by: string): void {
  writeJsonAtomic(join(dir, MARKER), { attune: true, by, created: new Date().toISOString() } satisfies MarkerInfo);
}

/** Entries that do not count as content: the marker and Attune's own temp files. */
function contentOf(dir: string): string[] {
  return readdirSync(dir).filter((n) => n !== MARKER && !isAttuneTemp(n));
}

type State =
  | { kind: 'missing' }
  | { kind: 'notDir' }
  | { kind: 'empty' }
  | { kind: 'ours' }
  | { kind: 'foreign'; entries: string[] };

function inspect(dir: string): State {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  if (st.isSymbolicLink()) {
    // a link to a folder is followed for writing (the user chose it), but it is never deleted through
    try {
      if (!statSync(dir).isDirectory()) return { kind: 'notDir' };
    } catch {
      return { kind: 'notDir' };
    }
  } else if (!st.isDirectory()) return { kind: 'notDir' };
  if (isAttuneOutDir(dir)) return { kind: 'ours' };
  const entries = contentOf(dir);
  return entries.length === 0 ? { kind: 'empty' } : { kind: 'foreign', entries };
}

function sample(entries: string[]): string {
  const shown = entries.slice(0, 3).join(', ');
  return entries.length > 3 ? `${shown}, ... (${entries.length} entries)` : shown;
}

/**
 * Makes `dir` ready for output: creates it (with parents) and marks it; a marked or empty existing folder is
 * reused (an empty one gets marked). A non-empty folder Attune did not create is refused with an InputError
 * naming it, unless `force` (then it is written into, but not marked and never cleared).
 * Returns the absolute path.
 */
export function prepareOutDir(dir: string, opts: OutDirOptions): string {
  const abs = resolve(dir);
  const flag = opts.flag ?? '--out';
  let state: State;
  try {
    state = inspect(abs);
  } catch (err) {
    throw new InputError(`${flag} ${abs}: cannot use it as an output folder (${(err as Error).message})`, {
      file: abs,
      field: flag,
    });
  }
  switch (state.kind) {
    case 'notDir':
      throw new InputError(`${flag} ${abs} exists and is not a folder; choose another ${flag}`, {
        file: abs,
        field: flag,
      });
    case 'missing':
      try {
        mkdirSync(abs, { recursive: true });
      } catch (err) {
        throw new InputError(
          `${flag} ${abs}: cannot create the output folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
          { file: abs, field: flag },
        );
      }
      mark(abs, opts.by);
      break;
    case 'empty':
      mark(abs, opts.by);
      break;
    case 'foreign':
      if (!opts.force) {
        throw new InputError(
          `${flag} ${abs} is not empty and was not created by Attune (it holds ${sample(state.entries)}); ` +
            `choose a new or empty folder, or pass --force to write into it (Attune never deletes what it did not write)`,
          { file: abs, field: flag, entries: state.entries.slice(0, 20) },
        );
      }
      break;
    case 'ours':
      break;
  }
  sweepOnce(abs);
  return abs;
}

/**
 * Starts `dir` over: a folder Attune created (marked) is removed and recreated; a missing or empty one is created.
 * A non-empty folder without the marker is never removed: InputError naming it (whatever `force` says).
 * Returns the absolute path.
 */
export function freshOutDir(dir: string, opts: OutDirOptions): string {
  return freshOutDirs([dir], opts)[0];
}

/** `freshOutDir` for several folders, all checked before any is cleared (one refusal leaves every one untouched). */
export function freshOutDirs(dirs: readonly string[], opts: OutDirOptions): string[] {
  const checked = dirs.map((d) => [resolve(d), checkFresh(resolve(d), opts.flag ?? '--out')] as const);
  return checked.map(([abs, state]) => recreate(abs, state, opts));
}

function checkFresh(abs: string, flag: string): State {
  let state: State;
  try {
    state = inspect(abs);
  } catch (err) {
    throw new InputError(`${abs}: cannot use it as an output folder (${(err as Error).message})`, {
      file: abs,
      field: flag,
    });
  }
  if (state.kind === 'notDir')
    throw new InputError(`${abs} exists and is not a folder; move it away or choose another ${flag}`, {
      file: abs,
      field: flag,
    });
  if (state.kind === 'foreign') {
    throw new InputError(
      `${abs} would be recreated, but it was not created by Attune (no ${MARKER}; it holds ${sample(state.entries)}); ` +
        `Attune does not delete what it did not write: move it away or choose another ${flag}`,
      { file: abs, field: flag, entries: state.entries.slice(0, 20) },
    );
  }
  return state;
}

function recreate(abs: string, state: State, opts: OutDirOptions): string {
  if (state.kind === 'ours') {
    if (lstatSync(abs).isSymbolicLink()) {
      // clear the target's content, keep the link
      for (const name of readdirSync(abs)) rmSync(join(abs, name), { recursive: true, force: true });
    } else {
      rmSync(abs, { recursive: true, force: true });
    }
  }
  return prepareOutDir(abs, { ...opts, force: false });
}
