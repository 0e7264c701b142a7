/**
 * The emotion ablation (docs/emotion.md "Ablation"): trains every row of ABLATION_ROWS on EmoSpeech over the seeds
 * and writes the table between the `<!-- emotion-ablation:begin/end -->` markers of docs/emotion.md (full runs
 * only; a --quick run prints and writes nothing), plus the inference time of the full model on a 5 s utterance.
 *
 *   node dist/bench/emotion_ablation.js [--n 2000] [--seeds 1,2,3] [--out runs/emotion-ablation] [--cache .attune-cache]
 *                                       [--set train.epochs=12 ...] [--rows 0,1,8] [--quick] [--json]
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ablationMarkdown, ABLATION_ROWS, runAblation } from '../src/models/emotion/ablation.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import type { BenchOptions, BenchReport } from './types.js';

export const EMOTION_DOC = fileURLToPath(new URL('../../docs/emotion.md', import.meta.url));
const BEGIN = '<!-- emotion-ablation:begin -->';
const END = '<!-- emotion-ablation:end -->';

export interface AblationArgs {
  n: number;
  seeds: number[];
  out: string;
  cache: string;
  sets: string[];
  rows?: number[];
}

export function parseArgs(argv: string[]): AblationArgs & { quick: boolean; json: boolean } {
  const a: AblationArgs & { quick: boolean; json: boolean } = {
    n: 2000,
    seeds: [1, 2, 3],
    out: 'runs/emotion-ablation',
    cache: '.attune-cache',
    sets: [],
    quick: false,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--n':
        a.n = Number(v);
        i++;
        break;
      case '--seeds':
        a.seeds = v.split(',').map(Number);
        i++;
        break;
      case '--out':
        a.out = v;
        i++;
        break;
      case '--cache':
        a.cache = v;
        i++;
        break;
      case '--set':
        a.sets.push(v);
        i++;
        break;
      case '--rows':
        a.rows = v.split(',').map(Number);
        i++;
        break;
      case '--quick':
        a.quick = true;
        break;
      case '--json':
        a.json = true;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]} (see the comment at the top of bench/emotion_ablation.ts)`);
    }
  }
  return a;
}

export async function runEmotionAblation(
  a: AblationArgs,
  write: boolean,
  log: (line: string) => void,
): Promise<BenchReport> {
  const rows = a.rows ? a.rows.map((r) => ABLATION_ROWS[r]) : ABLATION_ROWS;
  const started = performance.now();
  const command = `\`node dist/bench/emotion_ablation.js --n ${a.n} --seeds ${a.seeds.join(',')}${a.sets.map((s) => ` --set ${s}`).join('')}${a.rows ? ` --rows ${a.rows.join(',')}` : ''}\``;
  const footer = (done: number) =>
    `${done < rows.length ? `Partial: ${done} of ${rows.length} rows so far. ` : ''}Wall time: ${((performance.now() - started) / 60000).toFixed(1)} min (shared 2-core machine). Command: ${command}.`;
  const result = await runAblation({
    onRowDone: (partial) =>
      write ? writeSection([...ablationMarkdown(partial), '', footer(partial.rows.length)]) : undefined,
    n: a.n,
    seeds: a.seeds,
    out: a.out,
    cacheDir: a.cache,
    sets: a.sets,
    rows,
    onRow: (row, seed, m, s) =>
      log(
        `${row.name} seed ${seed}: acc ${m.acc?.toFixed(3)} weighted F1 ${m.weighted_f1?.toFixed(3)}${m.grounding !== undefined ? ` grounding ${m.grounding.toFixed(3)}` : ''} (${s.toFixed(0)} s)`,
      ),
  });
  const md = ablationMarkdown(result);
  md.push('', footer(result.rows.length));
  for (const line of md) log(line);
  if (write) writeSection(md);
  const figures: Record<string, number> = {};
  for (const r of result.rows) figures[`acc:${r.row.name}`] = r.summary.acc?.mean ?? NaN;
  return { name: 'emotion_ablation', figures, notes: md };
}

function writeSection(lines: string[]): void {
  const old = existsSync(EMOTION_DOC) ? readFileSync(EMOTION_DOC, 'utf8') : '# Emotion\n';
  const body = [BEGIN, ...lines, END].join('\n');
  const [head, rest] = old.includes(BEGIN)
    ? [old.slice(0, old.indexOf(BEGIN)), old.slice(old.indexOf(END) + END.length)]
    : [`${old.trimEnd()}\n\n`, '\n'];
  writeFileAtomic(EMOTION_DOC, head + body + rest);
}

/** `attune bench`-style entry: the full ablation (quick: 600 utterances, one seed, 6 epochs, nothing written). */
export function run(o: BenchOptions): Promise<BenchReport> {
  const a = parseArgs([]);
  if (o.quick) Object.assign(a, { n: 600, seeds: [1], sets: ['train.epochs=6'] });
  return runEmotionAblation(a, !o.quick, o.json ? () => {} : console.log);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const a = parseArgs(process.argv.slice(2));
  const report = await runEmotionAblation(a, !a.quick, a.json ? () => {} : console.log);
  if (a.json) console.log(JSON.stringify(report, null, 2));
}
