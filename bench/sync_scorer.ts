/**
 * `attune bench sync-scorer`: trains the learned lag scorer (src/models/av_sync/lag_scorer.ts) with self-supervised
 * shifts on the real development clips (real:dev, never the held-out part) plus AV-Synth clips, decides on dev by
 * leave-one-clip-out cross-fitting (scorer_cv.ts) and writes the weights and calibration row fitted on every dev
 * clip to runs/av-sync-scorer/ (`cp runs/av-sync-scorer/lag-scorer.* weights/av-sync/` reproduces what ships; the
 * printed `fused` row goes into calibration.ts). The lip curves are read through cross-fitted lip nets (clip i of
 * the dev talking-head list by the net trained on the one-face clips of the other parity, as `attune bench
 * sync-lips` trains them), since the shipped lip net saw every dev talking head. Prints, over the 147 dev cases
 * (21 clips x the 7 bench shifts): auto as shipped without the scorer, the scorer alone, and auto with it; and, on the
 * talking heads with a face, the lag within one frame of the lip cue, the scorer, the final answer and two
 * frame-resolution rules (lipFrames).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions, BenchReport } from './types.js';
import { syncExample } from '../src/data/synth/clip.js';
import { autoSync, cueCurves, type AutoEstimate } from '../src/models/av_sync/auto.js';
import { DEFAULT_MIN_CONFIDENCE } from '../src/models/av_sync/calibration.js';
import { syncSynthConfig } from '../src/models/av_sync/data.js';
import { decodeSyncClip, featuresOfShifted } from '../src/models/av_sync/decoded.js';
import { faceMesh, mouthTrackOf } from '../src/models/av_sync/face_track.js';
import { featuresFromClip, type SyncFeatures } from '../src/models/av_sync/features.js';
import { robustZ, saveLagScorer, SCORER_FIT_DEFAULT, type ScorerParts } from '../src/models/av_sync/lag_scorer.js';
import { SHIPPED_LIP_MODEL, type LipWeights } from '../src/models/av_sync/lip_cue.js';
import { LIP_NET_DEFAULT } from '../src/models/av_sync/lip_net.js';
import { LIP_TRAIN_DEFAULT, lipTrainClip, trainLipNet } from '../src/models/av_sync/lip_train.js';
import type { MouthTrack } from '../src/models/av_sync/mouth_cue.js';
import { REAL_SHIFTS, realBenchClips, withinOneFrame } from '../src/models/av_sync/real_bench.js';
import { defaultRealDir, stratumOf } from '../src/models/av_sync/real_clips.js';
import { expectedCalibrationError, SYNC_GRID } from '../src/models/av_sync/result.js';
import { crossFitScorer, type FusedAnswer, type ScorerCase } from '../src/models/av_sync/scorer_cv.js';

export const SCORER_RUN_DIR = 'runs/av-sync-scorer';
/** Training-only shifts beside the 7 bench shifts (more lags seen per clip; never scored). */
const EXTRA_SHIFTS = [-1.6, -0.9, -0.4, 0.4, 0.9, 1.6];
/** AV-Synth clips x 7 grid offsets each (seed 4321, no bench or trainer seed). Chosen on dev among 0, 10, 20, 40. */
const SYNTH_CLIPS = 10;
const SYNTH_SEED = 4321;

interface DevCase {
  file: string;
  stratum: string;
  shift: number;
  base: AutoEstimate;
}

async function foldLipNets(clips: { file: string; track?: MouthTrack; f0: SyncFeatures; head: boolean }[]) {
  const oneFace = new Set(
    (JSON.parse(readFileSync(join(SHIPPED_LIP_MODEL, 'metrics.json'), 'utf8')) as { trainedOn: string[] }).trainedOn,
  );
  const heads = clips.filter((c) => c.head);
  const nets: LipWeights[] = [];
  for (const k of [0, 1]) {
    const use = heads.filter((c, i) => i % 2 !== k && oneFace.has(c.file) && c.track);
    const data = use.map((c) => lipTrainClip(c.file, c.track!, c.f0));
    nets.push({
      cfg: LIP_NET_DEFAULT,
      params: (await trainLipNet(data, { ...LIP_TRAIN_DEFAULT, cfg: LIP_NET_DEFAULT })).params,
    });
  }
  return (file: string) =>
    nets[
      Math.max(
        0,
        heads.findIndex((c) => c.file === file),
      ) % 2
    ];
}

function synthCases(): ScorerCase[] {
  const cfg = syncSynthConfig({ seed: SYNTH_SEED, seconds: 9, size: 64, classes: 8, noise: 0.02 });
  const out: ScorerCase[] = [];
  for (let i = 0; i < SYNTH_CLIPS; i++)
    for (const label of [2, 5, 8, 10, 12, 15, 18].map((l) => (l + i) % SYNC_GRID.length)) {
      const f = featuresFromClip(syncExample(cfg, i, label));
      out.push({
        clip: `synth-${i}`,
        shift: SYNC_GRID[label],
        parts: cueCurves(f, undefined, null),
        mask: f.mask,
        evaluate: false,
      });
    }
  return out;
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const dir = defaultRealDir();
  const list = realBenchClips(dir, 'dev');
  const notes: string[] = [];
  const say = (line: string) => {
    notes.push(line);
    if (!opts.json) process.stdout.write(line + '\n');
  };
  await faceMesh();
  const decoded = [];
  for (const c of list) {
    const clip = await decodeSyncClip(join(dir, c.file));
    const track = await mouthTrackOf(clip);
    decoded.push({ c, clip, track, file: c.file, f0: featuresOfShifted(clip, 0), head: c.category === 'talking head' });
  }
  const lipNetOf = await foldLipNets(decoded);
  const cases: ScorerCase[] = [];
  const dev: DevCase[] = [];
  for (const d of decoded)
    for (const shift of [...REAL_SHIFTS, ...EXTRA_SHIFTS]) {
      const f = featuresOfShifted(d.clip, shift);
      const lipNet = lipNetOf(d.file);
      const evaluate = REAL_SHIFTS.includes(shift);
      const parts = cueCurves(f, d.track, lipNet);
      cases.push({ clip: d.file, shift, parts, mask: parts.mouth?.mask ?? f.mask, evaluate });
      if (evaluate)
        dev.push({
          file: d.file,
          stratum: stratumOf(d.c),
          shift,
          base: autoSync(f, { mouth: d.track, lipNet, scorer: null }),
        });
    }
  const synth = synthCases();
  const cv = crossFitScorer(cases, synth);
  const fused = new Map(cv.answers.map((a) => [`${a.clip}@${a.shift}`, a]));
  const fusedOf = (c: DevCase) => fused.get(`${c.file}@${c.shift}`)!;
  say(
    `sync-scorer: ${list.length} dev clips x ${REAL_SHIFTS.length} shifts (+${EXTRA_SHIFTS.length} training shifts), ${synth.length} AV-Synth cases; leave-one-clip-out`,
  );
  const figures: BenchReport['figures'] = {};
  const rows: [string, (c: DevCase) => { lag: number; confidence: number }][] = [
    ['auto without the scorer (shipped rows)', (c) => c.base],
    ['learned lag scorer alone (out of fold)', fusedOf],
    [
      'auto + learned lag scorer (out of fold)',
      (c) => (fusedOf(c).confidence > c.base.confidence ? fusedOf(c) : c.base),
    ],
  ];
  for (const [name, pick] of rows) {
    const s = summarize(dev, pick);
    say(
      `  ${name.padEnd(42)} answered ${s.answered} / ${dev.length}, wrong ${s.wrong}, best lag within 0.2 s ${s.best}, TH + impact answered ${s.thAnswered} / ${s.th}, ECE ${s.ece.toFixed(3)}`,
    );
    Object.assign(
      figures,
      Object.fromEntries(
        Object.entries(s).map(([k, v]) => [
          `${name.split(' ')[0]}${name.includes('alone') ? '_alone' : name.includes('+') ? '_fused' : ''}_${k}`,
          v,
        ]),
      ),
    );
  }
  const wrong = dev.filter((c) => {
    const f = fusedOf(c);
    return (
      f.confidence >= DEFAULT_MIN_CONFIDENCE &&
      f.confidence > c.base.confidence &&
      Math.abs(f.lag - c.shift) > 0.2 + 1e-6
    );
  });
  say(
    `  answered wrong by the scorer: ${wrong.map((c) => `${c.file} at ${c.shift} s (${fusedOf(c).lag.toFixed(2)} s, ${fusedOf(c).confidence.toFixed(2)})`).join('; ') || 'none'}`,
  );
  const partsOf = new Map(cases.map((c) => [`${c.clip}@${c.shift}`, c.parts]));
  const lips = lipFrames(dev, fusedOf, (c) => partsOf.get(`${c.file}@${c.shift}`)!);
  say(
    `  talking heads with a face, within one frame: lip cue ${lips.hand} / ${lips.cases}, learned lag scorer ${lips.fused} / ${lips.cases}, final answer (auto + scorer) ${lips.answer} / ${lips.cases}; the scorer's peak moved within +-${REFINE} frames to the lip cue's ${lips.handNear} / ${lips.cases}, to the lip cue + lip net's (z) ${lips.bothNear} / ${lips.cases}`,
  );
  say(
    `  weights [${cv.weights.map((w) => w.toFixed(4)).join(', ')}]; fused row [${cv.row.map((w) => w.toFixed(4)).join(', ')}]`,
  );
  if (!opts.quick) {
    saveLagScorer(SCORER_RUN_DIR, cv.weights, {
      calibrationRow: cv.row.map((w) => Math.round(w * 1e4) / 1e4),
      fit: SCORER_FIT_DEFAULT,
      data: {
        dev: list.map((c) => c.file),
        shifts: [...REAL_SHIFTS, ...EXTRA_SHIFTS],
        synth: { clips: SYNTH_CLIPS, seed: SYNTH_SEED },
      },
      dev: figures,
      command: 'attune bench sync-scorer',
    });
    say(`  written to ${SCORER_RUN_DIR}/ (weights/av-sync/ ships lag-scorer.*)`);
  }
  return {
    name: 'sync-scorer',
    figures: {
      ...figures,
      lips_hand: lips.hand,
      lips_fused: lips.fused,
      lips_answer: lips.answer,
      lips_fused_hand_near: lips.handNear,
      lips_fused_both_near: lips.bothNear,
      lip_cases: lips.cases,
    },
    notes,
  };
}

function summarize(dev: DevCase[], pick: (c: DevCase) => { lag: number; confidence: number }) {
  let answered = 0,
    wrong = 0,
    best = 0,
    th = 0,
    thAnswered = 0;
  const conf: number[] = [],
    right: boolean[] = [];
  for (const c of dev) {
    const r = pick(c);
    const ok = Math.abs(r.lag - c.shift) <= 0.2 + 1e-6;
    const key = c.stratum.startsWith('talking head') || c.stratum.startsWith('impact');
    const ans = r.confidence >= DEFAULT_MIN_CONFIDENCE;
    best += Number(ok);
    th += Number(key);
    answered += Number(ans);
    wrong += Number(ans && !ok);
    thAnswered += Number(ans && key);
    conf.push(r.confidence);
    right.push(ok);
  }
  return { answered, wrong, best, th, thAnswered, ece: expectedCalibrationError(conf, right) };
}

/** Frames around the scorer's peak within which the frame-resolution rules below may move it (docs/sync.md). */
const REFINE = 2;

/** Best lag (frames) of a curve [2 MAX_LAG + 1] within radius frames of centre. */
function peakNear(curve: ArrayLike<number>, centre: number, radius: number): number {
  const mid = (curve.length - 1) / 2;
  let best = NaN;
  for (let l = Math.max(-mid, centre - radius); l <= Math.min(mid, centre + radius); l++)
    if (Number.isNaN(best) || curve[l + mid] > curve[best + mid]) best = l;
  return best;
}

/**
 * Within one frame on the dev talking heads with a face (out of fold): the lip cue, the scorer, the final answer of
 * auto + scorer (what a user gets), and two frame-resolution rules: the scorer's peak moved within +-REFINE frames to
 * the lip cue's best lag there, or to that of the sum of the lip cue and the lip net (robust z, as the scorer reads
 * them).
 */
function lipFrames(dev: DevCase[], fusedOf: (c: DevCase) => FusedAnswer, partsOf: (c: DevCase) => ScorerParts) {
  const n = { cases: 0, hand: 0, fused: 0, answer: 0, handNear: 0, bothNear: 0 };
  for (const c of dev) {
    const lip = c.base.cues.find((r) => r.cue === 'mouth');
    const mouth = partsOf(c).mouth;
    if (!lip || !mouth || !c.stratum.startsWith('talking head')) continue;
    const hit = (best: number) => Number(withinOneFrame(best, c.shift));
    const f = fusedOf(c);
    const base = c.base.cues.find((r) => r.cue === c.base.cue)!;
    const hand = robustZ(mouth.curve),
      net = robustZ(partsOf(c).lip);
    n.cases++;
    n.hand += hit(lip.stats.best);
    n.fused += hit(f.best);
    n.answer += hit(f.confidence > c.base.confidence ? f.best : base.stats.best);
    n.handNear += hit(peakNear(hand, f.best, REFINE));
    n.bothNear += hit(
      peakNear(
        hand.map((h, i) => h + net[i]),
        f.best,
        REFINE,
      ),
    );
  }
  return n;
}
