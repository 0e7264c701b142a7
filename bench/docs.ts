import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../src/util/atomic.js';

/** The package's docs/benchmarks.md (compiled benches live in dist/bench), whatever the working folder. */
export const BENCHMARKS_DOC = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

/**
 * Replaces one benchmark's section of docs/benchmarks.md (between `<!-- name:begin -->` and `<!-- name:end -->`),
 * or appends it; other sections are left as they are. Call it for full runs only: a --quick smoke run must not
 * replace published figures. Returns the file's path.
 */
export function writeBenchSection(name: string, lines: string[]): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const body = [begin, ...lines, end].join('\n');
  const old = existsSync(BENCHMARKS_DOC) ? readFileSync(BENCHMARKS_DOC, 'utf8') : '# Benchmarks\n';
  const a = old.indexOf(begin);
  const b = old.indexOf(end);
  const next = a >= 0 && b > a ? old.slice(0, a) + body + old.slice(b + end.length) : `${old.trimEnd()}\n\n${body}\n`;
  writeFileAtomic(BENCHMARKS_DOC, next);
  return BENCHMARKS_DOC;
}
