/**
 * Media files under a folder, found deliberately:
 * - recursive, sorted by name at each level, so the order is the same on every machine;
 * - dot entries (.attune-index, .git, ...) and the `exclude` folders (e.g. an --out inside DIR) are skipped;
 * - a symlink is followed only while its target stays inside DIR: a link that leaves DIR, a dangling link and a
 *   link loop (a folder link to one of its own ancestors) are reported in `bad` with their reason, never followed,
 *   never a crash; a file reached twice (through a link to a folder or file already walked) is listed once;
 * - a folder that cannot be read is reported in `bad` and the walk goes on.
 */
import { lstatSync, readdirSync, realpathSync, readlinkSync, statSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../util/errors.js';

export const MEDIA_EXTENSIONS: ReadonlySet<string> = new Set([
  '.mp4',
  '.mov',
  '.mkv',
  '.webm',
  '.avi',
  '.m4v',
  '.mpg',
  '.mpeg',
  '.wav',
  '.mp3',
  '.flac',
  '.ogg',
  '.m4a',
  '.aac',
  '.opus',
]);

export interface WalkedFile {
  /** absolute path as reached from DIR (through links inside DIR, if any) */
  path: string;
  /** relative to DIR, with '/' separators */
  rel: string;
}

export interface WalkProblem {
  path: string;
  rel: string;
  reason: string;
  code: 'INPUT';
}

export interface WalkResult {
  root: string;
  files: WalkedFile[];
  bad: WalkProblem[];
}

export interface WalkOptions {
  /** File extensions to list, lower case with the dot (default MEDIA_EXTENSIONS). */
  extensions?: ReadonlySet<string>;
  /** Folders to leave out (absolute or relative to the cwd), e.g. the output folder when it lies inside DIR. */
  exclude?: readonly string[];
}

const inside = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
const relPath = (root: string, p: string): string => relative(root, p).split(sep).join('/');

export function walkMedia(dir: string, opts: WalkOptions = {}): WalkResult {
  const root = resolve(dir);
  let st;
  try {
    st = statSync(root);
  } catch (err) {
    throw new InputError(
      `${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (err as Error).message}`,
      { file: dir },
    );
  }
  if (!st.isDirectory()) throw new InputError(`${dir}: not a folder`, { file: dir });
  const realRoot = realpathSync(root);
  const exts = opts.extensions ?? MEDIA_EXTENSIONS;
  const excluded = new Set<string>();
  for (const e of opts.exclude ?? []) {
    try {
      excluded.add(realpathSync(resolve(e)));
    } catch {
      // an exclude that does not exist yet cannot hold files
    }
  }
  const files: WalkedFile[] = [];
  const bad: WalkProblem[] = [];
  const seenFiles = new Set<string>();
  const problem = (p: string, reason: string) => bad.push({ path: p, rel: relPath(root, p), reason, code: 'INPUT' });

  // `stack` holds the real paths of the folders being walked (ancestors of `shown`): a link back to one is a loop.
  const walk = (shown: string, real: string, stack: Set<string>): void => {
    let names: string[];
    try {
      names = readdirSync(shown).sort();
    } catch (err) {
      problem(shown, `cannot read folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const p = join(shown, name);
      let lst;
      try {
        lst = lstatSync(p);
      } catch (err) {
        problem(p, `cannot stat (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        continue;
      }
      let target = join(real, name);
      let isDir = lst.isDirectory();
      let isFile = lst.isFile();
      if (lst.isSymbolicLink()) {
        const link = safeReadlink(p);
        try {
          target = realpathSync(p);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ELOOP') problem(p, `symlink loop (${link}); not followed`);
          else if (code === 'ENOENT') problem(p, `dangling symlink (${link} does not exist); not followed`);
          else problem(p, `cannot resolve symlink ${link} (${code ?? (err as Error).message}); not followed`);
          continue;
        }
        if (!inside(realRoot, target)) {
          // Only media files and folders matter: a link to some unrelated file outside is not worth a report.
          const tst = statSync(target);
          if (tst.isDirectory() || exts.has(extname(name).toLowerCase()))
            problem(p, `symlink leads outside the folder (${target}); not followed`);
          continue;
        }
        const tst = statSync(target);
        isDir = tst.isDirectory();
        isFile = tst.isFile();
        if (isDir && stack.has(target)) {
          problem(p, `symlink loop (${link} is a folder above it); not followed`);
          continue;
        }
      }
      if (isDir) {
        if (excluded.has(target) || stack.has(target)) continue;
        stack.add(target);
        walk(p, target, stack);
        stack.delete(target);
      } else if (isFile && exts.has(extname(name).toLowerCase())) {
        if (seenFiles.has(target)) continue;
        seenFiles.add(target);
        files.push({ path: p, rel: relPath(root, p) });
      }
    }
  };
  walk(root, realRoot, new Set([realRoot]));
  return { root, files, bad };
}

function safeReadlink(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '?';
  }
}
