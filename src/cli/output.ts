import { AttuneError } from '../util/errors.js';

/** Shared conventions for commands: `--json` prints one JSON document on stdout; humans get tables. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Renders rows as an aligned text table. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => String(c ?? '').padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toFixed(4);
}

/** Turns a thrown error into a one-line message (or JSON) and an exit code; never a stack for user errors. */
export function reportError(err: unknown, json: boolean): number {
  if (err instanceof AttuneError) {
    if (json) printJson({ error: err.toJSON() });
    else process.stderr.write(`attune: ${err.message}\n`);
    return 2;
  }
  if (json) printJson({ error: { name: 'Error', message: err instanceof Error ? err.message : String(err) } });
  else
    process.stderr.write(
      `attune: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  return 1;
}
