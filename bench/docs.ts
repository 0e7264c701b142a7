import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../src/util/atomic.js';

/** The package's root and its docs/benchmarks.md (compiled benches live in dist/bench), whatever the working folder. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCHMARKS_DOC = join(PACKAGE_ROOT, 'docs', 'benchmarks.md');

/**
 * Replaces one benchmark's section of docs/benchmarks.md (between `<!-- name:begin -->` and `<!-- name:end -->`),
 * or appends it; other sections are left as they are. Call it for full runs only: a --quick smoke run must not
 * replace published figures. Only in a source checkout (a .git beside the package's files): an installed package's
 * files are not Attune's to change on a user's machine. Returns what was done, as a sentence.
 */
export function writeBenchSection(name: string, lines: string[]): string {
  if (!existsSync(join(PACKAGE_ROOT, '.git')))
    return `docs/benchmarks.md left as it is (the ${name} section is rewritten only in a source checkout)`;
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const body = [begin, ...lines, end].join('\n');
  const old = existsSync(BENCHMARKS_DOC) ? readFileSync(BENCHMARKS_DOC, 'utf8') : '# Benchmarks\n';
  const a = old.indexOf(begin);
  const b = old.indexOf(end);
  const next = a >= 0 && b > a ? old.slice(0, a) + body + old.slice(b + end.length) : `${old.trimEnd()}\n\n${body}\n`;
  writeFileAtomic(BENCHMARKS_DOC, next);
  return `wrote the ${name} section of ${BENCHMARKS_DOC}`;
}
