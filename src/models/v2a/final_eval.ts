/**
 * The final test evaluation of `attune train v2a`: sound generated for held-out AV-Synth scenes from their video,
 * scored (evaluate.ts) beside the reference rows real audio, real audio through the decoder, another scene's real
 * audio and silence; with `data.eval.ibModel`, every row also gets the IB-score analogue (ib.ts).
 */
import type { EvalContext } from '../../train/task.js';
import type { Section } from '../../report/spec.js';
import { ConfigError } from '../../util/errors.js';
import { DecoderPool } from './decode_pool.js';
import { audioFeatures, classify } from './classifier.js';
import type { V2aExample } from './data.js';
import { type FdFloor, fdFloor, type SceneTruth, type Scores, scoreSet } from './evaluate.js';
import { generateWaves, predictorVelocity } from './generate.js';
import { decodeCodes } from './autoencoder.js';
import { type IbScorer, loadIbScorer } from './ib.js';
import type { V2aModelConfig, V2aTaskData } from './task.js';

type Row = Scores & { ib?: number; seconds?: number };

function scenesOf(examples: V2aExample[]): SceneTruth[] {
  return examples.map((e) => ({
    heard: e.events.map((ev) => ev.time),
    seen: e.events.map((ev) => ev.time),
    classes: e.classes,
  }));
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export async function evaluateV2a(
  ctx: EvalContext<V2aModelConfig, V2aTaskData>,
): Promise<{ metrics: Record<string, number>; sections?: Section[] }> {
  const { data } = ctx;
  const e = data.cfg.eval;
  if (!ctx.final || e.clips === 0) return { metrics: {} };
  if (ctx.batchSize % 2 !== 0)
    throw new ConfigError(
      `v2a evaluation needs an even train.evalBatchSize (cond + uncond halves), got ${ctx.batchSize}`,
      { field: 'train.evalBatchSize' },
    );
  const test = ctx.indices.slice(0, e.clips).map((i) => data.examples[i]);
  const scenes = scenesOf(test);
  const realLogits = test.map((x) => classify(data.classifier, audioFeatures(x.audio)));
  const items = test.map((x) => ({ frames: x.frames, text: e.text ? x.text : null, textValid: x.textValid }));
  const velocity = predictorVelocity(ctx.predictor);
  const ae = data.autoencoder;
  const toMel = ae ? (codes: Float32Array[]) => decodeCodes(ae, codes, data.seq.latent) : undefined;
  const ib: IbScorer | null = e.ibModel ? await loadIbScorer(e.ibModel, data.seq.seconds) : null;
  const decoder = DecoderPool.create(2); // bit-identical to one thread, ~half the wall time on 2 cores
  const frames = test.map((x) => x.frames ?? new Uint8Array(0));
  const score = async (waves: Float32Array[]): Promise<Row> => ({
    ...(await scoreSet(waves, scenes, realLogits, data.classifier)),
    ...(ib ? { ib: mean(await ib.score(frames, waves)) } : {}),
  });
  const run = async (steps: number, cfg: number): Promise<Row> => {
    const started = Date.now();
    const waves = await generateWaves(velocity, items, data.seq, ctx.batchSize, {
      steps,
      cfg,
      guidanceFrom: e.guidanceFrom,
      seed: 0,
      griffinLim: e.griffinLim,
      decoder,
      toMel,
    });
    return { ...(await score(waves)), seconds: (Date.now() - started) / 1000 / test.length };
  };
  try {
    const guided = `CFG ${e.cfg}${e.guidanceFrom > 0 ? ` from t = ${e.guidanceFrom}` : ''}`;
    const rows: [string, Row][] = [[`generated (${e.steps} steps, ${guided})`, await run(e.steps, e.cfg)]];
    if (e.sweep) {
      rows.push([`generated (${e.steps} steps, CFG 1)`, await run(e.steps, 1)]);
      for (const steps of [1, 4, 8]) rows.push([`generated (${steps} steps, ${guided})`, await run(steps, e.cfg)]);
    }
    const mels = toMel ? await toMel(test.map((x) => x.latent)) : test.map((x) => x.latent);
    const decoded: Float32Array[] = [];
    for (const [i, m] of mels.entries())
      decoded.push(
        await decoder.decode(m, data.seq.latent, { iterations: e.griffinLim, length: test[i].audio.length }),
      );
    const refs: [string, Float32Array[]][] = [
      ['real audio', test.map((x) => x.audio)],
      // the ceiling of any generator here: the real latent through the (autoencoder and) waveform decoder
      ['real audio, encoded and decoded', decoded],
      ['real audio of another scene', data.otherScenes.slice(0, test.length)],
      ['silence', test.map((x) => new Float32Array(x.audio.length))],
    ];
    for (const [name, waves] of refs) if (waves.length === test.length) rows.push([name, await score(waves)]);
    const floor = await fdFloor(
      data.otherSceneLogits.map((draw) => draw.slice(0, test.length)),
      realLogits,
    );
    const metrics = { ...Object.fromEntries(Object.entries(rows[0][1])), fdFloor: floor.mean, fdFloorStd: floor.std };
    const columns = [
      'audio',
      'FD',
      'KL',
      'IS',
      'onset F1',
      'DeSync (s)',
      'class acc',
      ...(ib ? ['IB'] : []),
      's / clip',
    ];
    const table = rows.map(([name, s]) => [
      name,
      s.fd,
      s.kl,
      s.is,
      s.onsetF1,
      s.desync,
      s.classAcc,
      ...(ib ? [s.ib ?? null] : []),
      s.seconds ?? null,
    ]);
    const title = `Held-out AV-Synth scenes (${test.length} clips of ${data.seq.seconds} s)`;
    const sections: Section[] = [{ kind: 'table', title, columns, rows: table, digits: 3 }, floorTable(floor, rows)];
    return { metrics, sections };
  } finally {
    await Promise.all([ib?.close(), decoder.close()]);
  }
}

/** FD of every generated row beside the floor: other unseen scenes' real audio, each draw and mean ± std. */
function floorTable(floor: FdFloor, rows: [string, Row][]): Section {
  const draws = floor.perDraw.map((fd, k): [string, number] => [`real audio of other scenes, draw ${k + 1}`, fd]);
  const generated = rows
    .filter(([name]) => name.startsWith('generated'))
    .map(([name, s]): [string, number] => [name, s.fd]);
  return {
    kind: 'table',
    title: `FD against the floor: ${floor.perDraw.length} independent draws of unseen scenes, mean ${floor.mean.toFixed(1)} ± ${floor.std.toFixed(1)}`,
    columns: ['audio', 'FD', 'below the floor mean'],
    rows: [...generated, ...draws].map(([name, fd]) => [name, fd, fd < floor.mean ? 'yes' : 'no']),
    digits: 3,
  };
}
