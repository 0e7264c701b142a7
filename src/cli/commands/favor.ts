/**
 * `attune favor VIDEO --model RUN --out tokens.safetensors [--export encoder.onnx]`: a trained FAVOR model's joint
 * audio-visual tokens per window for downstream use, and the encoder (frames + audio -> tokens) as one ONNX file.
 */
import type { Command } from 'commander';
import { saveSafetensors } from '../../io/safetensors.js';
import { InputError } from '../../util/errors.js';
import { printJson } from '../output.js';
import { seconds } from '../parse.js';

interface Options {
  ablation?: string;
  from?: string[];
  seeds: string;
  set: string[];
  rows?: string;
  variant?: string;
  docs?: string;
  model?: string;
  out?: string;
  export?: string;
  frames: string;
  duration?: number;
  bench?: string;
  realDir?: string;
  json: boolean;
}

export function register(program: Command): void {
  program
    .command('favor')
    .description(
      'write the FAVOR joint audio-visual tokens of a video (per window) and/or export the audio-visual encoder as ONNX',
    )
    .argument('[video]', 'a video file with sound (needed for --out)')
    .option('--model <path>', 'a trained favor run folder (attune train favor --data avqa:N --out DIR)')
    .option('--out <file>', 'write tokens [M, D], token_window [M] and token_valid [M] to this .safetensors file')
    .option('--export <file>', 'write the encoder as one self-contained .onnx file (contract: docs/favor.md)')
    .option(
      '--frames <n>',
      'with --export: frames the exported encoder takes (2 Hz; shorter clips padded and masked)',
      '60',
    )
    .option('--duration <s>', 'read only the first seconds of the video', seconds('--duration'))
    .option(
      '--ablation <data>',
      'instead: train every ablation row on avqa:N over --seeds and print the table (runs under --out)',
    )
    .option(
      '--from <runs...>',
      'instead: build the ablation table from finished run folders (each row found from its config.json; the runs must share every other setting)',
    )
    .option('--seeds <list>', 'with --ablation: seeds (e.g. 1,2,3)', '1,2,3')
    .option(
      '--set <key=value>',
      'with --ablation: shared config override (repeatable), e.g. --set train.epochs=8',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--variant <name>', 'with --ablation: model variant (tiny, small)')
    .option('--rows <list>', 'with --ablation: only these rows (0 = full FAVOR; see docs/favor.md)')
    .option(
      '--docs <file>',
      'with --ablation or --from: write the table between the ablation markers of this markdown file (docs/favor.md)',
    )
    .option(
      '--bench <spec>',
      'instead: ask --model the sync and matching questions about real clips with their sound moved or swapped (real = all clips, or real:held-out / real:dev, the parts of the sync bench\'s split; docs/favor.md "Real footage")',
    )
    .option(
      '--real-dir <dir>',
      'with --bench: the real clips and their catalog.jsonl (default ../shared/media/real or $ATTUNE_REAL_MEDIA)',
    )
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      `
Example:
  attune favor clip.mp4 --model runs/favor --out clip_tokens.safetensors
  attune favor --model runs/favor --export favor_encoder.onnx --frames 60
  attune favor --ablation avqa:400 --seeds 1,2,3 --out runs/favor-ablation --docs docs/favor.md
  attune favor --from runs/favor-ablation/row*/seed-* runs/favor-s2q --docs docs/favor.md
  attune favor --bench real --model runs/favor-s2q --json`,
    )
    .action(async (video: string | undefined, o: Options) => {
      if (o.from) return ablationFromRunFolders(o.from, o);
      if (o.ablation) return ablation(o);
      if (o.bench !== undefined) return benchReal(o);
      if (!o.model)
        throw new InputError(
          'attune favor needs --model DIR (a run folder from: attune train favor --data avqa:400 --out DIR)',
          { field: '--model' },
        );
      if (!o.out && !o.export)
        throw new InputError('nothing to do: give --out FILE (tokens) and/or --export FILE (encoder)', {
          field: '--out',
        });
      if (o.out && !video) throw new InputError('--out needs a VIDEO', { field: 'video' });
      const frames = Number(o.frames);
      if (!Number.isInteger(frames) || frames < 1)
        throw new InputError(`--frames expects a positive integer, got "${o.frames}"`, {
          field: '--frames',
          got: o.frames,
        });
      const { decodeClip, exportEncoder, favorTokens, loadFavorModel } = await import('../../models/favor/infer.js');
      const model = loadFavorModel(o.model);
      const result: Record<string, unknown> = { model: model.source };
      if (o.out && video) {
        const clip = await decodeClip(video, { maxSeconds: o.duration, size: model.config.frameSize });
        const t = await favorTokens(model, clip);
        const [, m, d] = t.tokens.shape;
        saveSafetensors(
          o.out,
          { tokens: { ...t.tokens, shape: [m, d] }, token_window: t.window, token_valid: { ...t.valid, shape: [m] } },
          { video, frames: String(clip.frames), window: String(model.config.window) },
        );
        Object.assign(result, {
          out: o.out,
          frames: clip.frames,
          tokens: [m, d],
          windows: Math.ceil(clip.frames / model.config.window),
        });
      }
      if (o.export)
        Object.assign(result, {
          export: o.export,
          bytes: exportEncoder(model, o.export, frames),
          exportFrames: frames,
        });
      if (o.json) printJson(result);
      else
        process.stdout.write(
          Object.entries(result)
            .map(([k, v]) => `${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`)
            .join('\n') + '\n',
        );
    });
}

async function ablation(o: Options): Promise<void> {
  if (!o.out) throw new InputError('--ablation needs --out DIR for its run folders', { field: '--out' });
  const { parseSeeds } = await import('../../train/seeds.js');
  const { FAVOR_ABLATIONS, ablationTables, runFavorAblation, writeAblationDocs } =
    await import('../../app/favor_ablation.js');
  const seeds = parseSeeds(o.seeds);
  const rows = o.rows?.split(',').map(Number);
  const t0 = performance.now();
  const result = await runFavorAblation({
    data: o.ablation!,
    seeds,
    set: o.set,
    variant: o.variant,
    out: o.out,
    rows,
    onRow: (name, seed) =>
      process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${name}, seed ${seed}\n`),
  });
  const how = `Measured with \`attune favor --ablation ${o.ablation} --seeds ${o.seeds}${o.variant ? ` --variant ${o.variant}` : ''}${o.set.map((s) => ` --set ${s}`).join('')}${o.rows ? ` --rows ${o.rows}` : ''}\` (${((performance.now() - t0) / 60000).toFixed(0)} min): test accuracy in % per family, mean ± std over ${seeds.length} seeds.`;
  if (o.docs) writeAblationDocs(o.docs, result, how);
  if (o.json) printJson({ rows: result, ablations: FAVOR_ABLATIONS.length });
  else process.stdout.write(`${how}\n\n${ablationTables(result)}\n`);
}

async function ablationFromRunFolders(dirs: string[], o: Options): Promise<void> {
  const { ablationTables, writeAblationDocs } = await import('../../app/favor_ablation.js');
  const { ablationFromRuns } = await import('../../app/favor_ablation_runs.js');
  const rows = await ablationFromRuns(dirs);
  const how = `Merged with \`attune favor --from ${dirs.join(' ')}\`: test accuracy in % per family, mean ± sample std over the n seeds of each row.`;
  if (o.docs) writeAblationDocs(o.docs, rows, how);
  if (o.json) printJson({ rows, runs: dirs });
  else process.stdout.write(`${how}\n\n${ablationTables(rows)}\n`);
}

async function benchReal(o: Options): Promise<void> {
  const parts = { real: 'all', 'real:held-out': 'held-out', 'real:dev': 'dev' } as const;
  const part = parts[o.bench as keyof typeof parts] ?? null;
  if (!part)
    throw new InputError(`--bench expects real, real:held-out or real:dev, got "${o.bench}"`, {
      field: '--bench',
      got: o.bench,
    });
  if (!o.model) throw new InputError('--bench needs --model DIR (a trained favor run folder)', { field: '--model' });
  const { loadFavorModel } = await import('../../models/favor/infer.js');
  const { defaultRealDir } = await import('../../models/av_sync/real_clips.js');
  const { MIN_SECONDS, benchFavorReal, favorRealClips } = await import('../../app/favor_real.js');
  const { Progress } = await import('../../util/progress.js');
  const model = loadFavorModel(o.model);
  const dir = o.realDir ?? defaultRealDir();
  const bar = new Progress({ label: `favor ${o.bench}`, total: favorRealClips(dir, part).files.length, quiet: o.json });
  const r = await benchFavorReal({ model, dir, part, progress: (d) => bar.update(d) });
  bar.finish();
  if (o.json) return printJson(r);
  const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(1)}`);
  const lines = [
    `real ${part}: ${r.files.length} clips (${r.skipped.length} under ${MIN_SECONDS} s left out), ${r.questions.length} questions, ${r.seconds.toFixed(1)} s; model ${r.model}`,
    '',
    "| template | n | model, % | majority answer, % | cross-correlation, % | model's most common answer, share % |",
    '|---|---|---|---|---|---|',
    ...r.templates.map(
      (t) =>
        `| ${t.template} | ${t.n} | ${pct(t.accuracy)} | ${pct(t.majority)} | ${pct(t.xcorr)} | ${pct(t.constantShare)} |`,
    ),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
