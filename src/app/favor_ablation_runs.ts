/**
 * The FAVOR ablation table built from existing run folders (`attune favor --from DIR...`), so runs trained apart (a
 * stand-alone full-model run, rows queued one by one) make one reproducible table. Each run's row is read from its
 * config.json: its ablated fields must equal the defaults with exactly one row's overrides, and everything else must
 * be the same in every run except the seed and how the run was executed (threads, worker, export, report). The
 * stage-1 encoders are compared by the content of their weights, so a copied encoder folder counts as the same.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregateSeeds } from '../metrics/stats.js';
import { getTask } from '../models/registry.js';
import { parseOverrides, resolveConfig } from '../train/config.js';
import { parseDataSource } from '../train/data.js';
import { InputError } from '../util/errors.js';
import { FAVOR_ABLATIONS, type AblationRow } from './favor_ablation.js';

/** Fields that say how a run was executed, not what it trained; `variant` is a label, its values are in `model`. */
const EXECUTION_FIELDS = new Set([
  'variant',
  'train.seed',
  'train.threads',
  'train.worker',
  'train.export',
  'train.exportBatchSize',
  'train.report',
]);

/** A nested config as `a.b.c` → JSON text of the leaf (arrays are leaves). */
export function flattenConfig(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = JSON.stringify(value);
  return out;
}

interface RunFolder {
  dir: string;
  config: Record<string, string>;
  seed: number;
  test: Record<string, number>;
}

function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new InputError(`${path} does not exist (not a finished run folder?)`, { file: path });
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})`, { file: path });
  }
}

/** sha256 of a file, once per path: every run of a table usually names the same stage-1 weights. */
function fileDigest(path: string, seen: Map<string, string>): string {
  let digest = seen.get(path);
  if (!digest) seen.set(path, (digest = createHash('sha256').update(readFileSync(path)).digest('hex')));
  return digest;
}

function readRun(dir: string, digests: Map<string, string>): RunFolder {
  const config = flattenConfig(readJson(join(dir, 'config.json')));
  const metricsPath = join(dir, 'metrics.json');
  const test = readJson(metricsPath).test as Record<string, number> | undefined;
  if (!test || typeof test['test.acc'] !== 'number')
    throw new InputError(`${metricsPath}: no 'test' section with test.acc (did the run finish?)`, {
      file: metricsPath,
      field: 'test',
    });
  // The stage-1 weights a stage-2 run loaded: the same bytes under another path are the same encoders.
  const encoders = config['model.encoders'] && (JSON.parse(config['model.encoders']) as string | null);
  const weights = encoders ? join(encoders, 'best.safetensors') : '';
  if (weights && existsSync(weights)) config['model.encoders'] = `sha256:${fileDigest(weights, digests)}`;
  return { dir, config, seed: Number(JSON.parse(config['train.seed'] ?? 'NaN')), test };
}

/** Groups run folders into ablation rows (in FAVOR_ABLATIONS order) after checking they share every other setting. */
export async function ablationFromRuns(dirs: string[]): Promise<AblationRow[]> {
  if (!dirs.length) throw new InputError('--from needs at least one run folder', { field: '--from' });
  const digests = new Map<string, string>();
  const runs = dirs.map((dir) => readRun(dir, digests));
  const source = JSON.parse(runs[0].config.source ?? 'null') as string | null;
  if (typeof source !== 'string')
    throw new InputError(`${join(runs[0].dir, 'config.json')}: no 'source' field`, { file: runs[0].dir });
  const task = await getTask('favor');
  // A row's overrides are relative to the variant's defaults (tiny has 4 queries, small 8), so read them there.
  const variant = JSON.parse(runs[0].config.variant ?? 'null') as string | null;
  const defaults = flattenConfig(
    resolveConfig(task, { source: parseDataSource(source).kind, overrides: variant ? { variant } : {} }),
  );
  const rowSets = FAVOR_ABLATIONS.map((a) => flattenConfig(parseOverrides(a.set)));
  const ablated = [...new Set(rowSets.flatMap((s) => Object.keys(s)))];
  // A field missing from a run's config.json was added after that run; new fields default to the old behaviour
  // (e.g. model.queryHits = 0), so the run trained with today's default and is compared as such.
  for (const run of runs)
    for (const [k, v] of Object.entries(defaults)) if (!(k in run.config) && k.startsWith('model.')) run.config[k] = v;
  const shared = (run: RunFolder) =>
    Object.entries(run.config).filter(([k]) => !EXECUTION_FIELDS.has(k) && !ablated.includes(k));
  const reference = new Map(shared(runs[0]));
  const byRow = new Map<number, RunFolder[]>();
  for (const run of runs) {
    const file = join(run.dir, 'config.json');
    const mine = shared(run);
    for (const key of new Set([...reference.keys(), ...mine.map(([k]) => k)])) {
      if (run.config[key] !== reference.get(key))
        throw new InputError(
          `${file}: '${key}' is ${run.config[key] ?? 'missing'} but ${runs[0].dir} has ${reference.get(key) ?? 'missing'}; ` +
            'runs merged into one table must differ only in the ablated fields and the seed',
          { file, field: key },
        );
    }
    // First match wins: where a variant's default already equals a row's override (tiny's queries=4), the rows
    // coincide and the run counts for the earlier one.
    const row = rowSets.findIndex((set) => ablated.every((k) => run.config[k] === (set[k] ?? defaults[k])));
    if (row < 0) {
      const changed = ablated.filter((k) => run.config[k] !== defaults[k]);
      throw new InputError(
        `${file}: its ablated fields (${ablated.map((k) => `${k}=${run.config[k]}`).join(', ')}) match no ablation row ` +
          `(changed from the defaults: ${changed.join(', ') || 'none'}; rows in favor_ablation.ts)`,
        { file, field: changed[0] ?? 'model' },
      );
    }
    byRow.set(row, [...(byRow.get(row) ?? []), run]);
  }
  return [...byRow.entries()]
    .sort(([a], [b]) => a - b)
    .map(([i, group]) => {
      const seeds = group.map((r) => r.seed);
      const twice = seeds.find((s, j) => seeds.indexOf(s) !== j);
      if (twice !== undefined)
        throw new InputError(`row '${FAVOR_ABLATIONS[i].name}' has two runs with seed ${twice}`, { field: '--from' });
      return {
        name: FAVOR_ABLATIONS[i].name,
        set: FAVOR_ABLATIONS[i].set,
        metrics: aggregateSeeds(group.map((r) => r.test)),
        seeds,
        seconds: 0,
      };
    });
}
