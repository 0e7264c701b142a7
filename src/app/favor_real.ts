/**
 * `attune favor --bench real[:dev|:held-out] --model RUN`: the AVQA questions whose answers real footage fixes without
 * any annotation, asked of real clips. Each clip (`real`: all of them, as no FAVOR model trains on real footage; or
 * one part of av_sync's committed split; clips the catalog marks as physically out of sync left out, and clips under
 * MIN_SECONDS, as the moved audio must come from the clip itself) is cut to its middle (MARGIN s off each end) and
 * heard with its audio moved by each of SHIFTS (positive = late; what moves in is the clip's own sound from outside
 * the cut, never silence), and once with another clip's sound. Questions: `sync.late`, `sync.sync`, `sync.when` for
 * every shift, `matching.belong` for the own and the other sound. Beside the model: the majority answer of each
 * template over these questions (the shifts make "no" the majority of the yes/no sync questions) and, for the sync
 * templates, the classical method: av_sync's cross-correlation of audio onsets and motion over the whole clip with
 * its audio moved by the same shift (as the sync bench does), its best lag read as early / in sync / late at
 * +-HALF_STEP.
 */
import { join } from 'node:path';
import { decodeSyncClip, featuresOfShifted, realBenchClips, xcorrSync } from '../models/av_sync/index.js';
import { AUDIO_PER_FRAME, MEL_BANDS, frameValues } from '../models/favor/config.js';
import type { ClipStreams } from '../models/favor/data.js';
import { askBatch, decodeClip, type FavorModel } from '../models/favor/infer.js';
import { InputError } from '../util/errors.js';

/** Audio shifts in seconds (AVQA's sync offsets run 0.5-2 s; 1 s keeps clips of 5 s usable). */
export const SHIFTS = [-1, 0, 1] as const;
/** Seconds cut off each end: the moved audio comes from there. */
const MARGIN = 1;
/** Shortest clip asked about: 3 s left after the margins. */
export const MIN_SECONDS = 5;
/** The classical answer's threshold: half the shift. */
const HALF_STEP = 0.5;
const FRAME_RATE = 2;
const MEL_RATE = FRAME_RATE * AUDIO_PER_FRAME;

const SYNC_QUESTIONS = {
  'sync.late': 'is the sound late?',
  'sync.sync': 'is the sound in sync with the video?',
  'sync.when': 'is the sound early, late or in sync?',
} as const;
const MATCHING_QUESTION = 'does this sound belong to this video?';

type SyncTemplate = keyof typeof SYNC_QUESTIONS;
type Template = SyncTemplate | 'matching.belong';

/** Which clips: both parts of the committed split (the model saw no real clip), or one. */
export type FavorRealPart = 'all' | 'dev' | 'held-out';

export interface RealQuestion {
  file: string;
  template: Template;
  /** Audio shift in seconds (0 for matching), or the other clip whose sound is heard. */
  shift: number;
  foil?: string;
  truth: string;
  answer: string;
  /** The classical method's answer (sync templates only). */
  xcorr?: string;
}

export interface TemplateScore {
  template: Template;
  n: number;
  accuracy: number;
  /** Accuracy of always giving this part's most common true answer. */
  majority: number;
  /** Share of the model's answers that are its most common answer (1 = a constant answer). */
  constantShare: number;
  xcorr?: number;
}

export interface FavorRealResult {
  model: string;
  part: FavorRealPart;
  files: string[];
  skipped: { file: string; reason: string }[];
  questions: RealQuestion[];
  templates: TemplateScore[];
  seconds: number;
}

/** The right word for a sync question about audio moved by `shift` s. */
export function syncTruth(template: SyncTemplate, shift: number): string {
  const when = shift > 0 ? 'late' : shift < 0 ? 'early' : 'in sync';
  if (template === 'sync.when') return when;
  if (template === 'sync.late') return when === 'late' ? 'yes' : 'no';
  return when === 'in sync' ? 'yes' : 'no';
}

/** The classical method's best lag read as the answer to a sync question. */
export function lagAnswer(template: SyncTemplate, lag: number): string {
  return syncTruth(template, Math.abs(lag) < HALF_STEP ? 0 : lag);
}

/** The middle of `clip` (MARGIN s off each end) with its sound from `sound`'s middle moved by `shift` s. */
export function cutWithSound(clip: ClipStreams, sound: ClipStreams, shift: number, size: number): ClipStreams {
  const perFrame = frameValues(size);
  const first = MARGIN * FRAME_RATE;
  const frames = Math.min(clip.frames, sound.frames) - 2 * first;
  if (frames < 1 || Math.abs(shift) > MARGIN)
    throw new InputError(`a cut of ${frames} frames with a ${shift} s shift: the clip is too short`, { field: 'clip' });
  // Positive shift = late: at video time t the listener hears the file's sound of time t - shift.
  const melStart = Math.round((MARGIN - shift) * MEL_RATE);
  return {
    frames,
    video: clip.video.subarray(first * perFrame, (first + frames) * perFrame),
    audio: sound.audio.subarray(melStart * MEL_BANDS, (melStart + frames * AUDIO_PER_FRAME) * MEL_BANDS),
  };
}

function score(questions: RealQuestion[]): TemplateScore[] {
  const templates = [...Object.keys(SYNC_QUESTIONS), 'matching.belong'] as Template[];
  const mostCommonShare = (words: string[]): number => {
    const counts = new Map<string, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    return Math.max(0, ...counts.values()) / Math.max(1, words.length);
  };
  return templates.map((template) => {
    const qs = questions.filter((q) => q.template === template);
    const share = (f: (q: RealQuestion) => boolean) => qs.filter(f).length / Math.max(1, qs.length);
    return {
      template,
      n: qs.length,
      accuracy: share((q) => q.answer === q.truth),
      majority: mostCommonShare(qs.map((q) => q.truth)),
      constantShare: mostCommonShare(qs.map((q) => q.answer)),
      ...(template === 'matching.belong' ? {} : { xcorr: share((q) => q.xcorr === q.truth) }),
    };
  });
}

export interface FavorRealOptions {
  model: FavorModel;
  dir: string;
  part: FavorRealPart;
  progress?: (done: number) => void;
}

/** The part's clips long enough to be asked about, and the others with the reason. */
export function favorRealClips(dir: string, part: FavorRealPart): Pick<FavorRealResult, 'files' | 'skipped'> {
  const entries =
    part === 'all' ? [...realBenchClips(dir, 'dev'), ...realBenchClips(dir, 'held-out')] : realBenchClips(dir, part);
  return {
    files: entries.filter((c) => c.duration_s >= MIN_SECONDS).map((c) => c.file),
    skipped: entries
      .filter((c) => c.duration_s < MIN_SECONDS)
      .map((c) => ({ file: c.file, reason: `${c.duration_s} s, under ${MIN_SECONDS} s` })),
  };
}

/** Every question of the part's clips, answered by the model and (sync) by the cross-correlation. */
export async function benchFavorReal(opts: FavorRealOptions): Promise<FavorRealResult> {
  const t0 = performance.now();
  const size = opts.model.config.frameSize;
  const { files, skipped } = favorRealClips(opts.dir, opts.part);
  const streams = new Map<string, ClipStreams>();
  for (const f of files) streams.set(f, await decodeClip(join(opts.dir, f), { size }));
  const questions: RealQuestion[] = [];
  for (const [i, file] of files.entries()) {
    const own = streams.get(file)!;
    // The other sound: the next clip in the part's order (cyclic), cut to this clip's length.
    const foil = files[(i + 1) % files.length];
    const sync = await decodeSyncClip(join(opts.dir, file));
    const asked: { clip: ClipStreams; q: Omit<RealQuestion, 'answer'>; text: string }[] = [];
    for (const shift of SHIFTS) {
      const clip = cutWithSound(own, own, shift, size);
      const lag = xcorrSync(featuresOfShifted(sync, shift)).lag; // one correlation answers the three templates
      for (const [template, text] of Object.entries(SYNC_QUESTIONS) as [SyncTemplate, string][])
        asked.push({
          clip,
          text,
          q: { file, template, shift, truth: syncTruth(template, shift), xcorr: lagAnswer(template, lag) },
        });
    }
    const sounds: [string, 'yes' | 'no'][] =
      foil === file
        ? [[file, 'yes']]
        : [
            [file, 'yes'],
            [foil, 'no'],
          ];
    for (const [sound, truth] of sounds)
      asked.push({
        clip: cutWithSound(own, streams.get(sound)!, 0, size),
        text: MATCHING_QUESTION,
        q: { file, template: 'matching.belong', shift: 0, ...(truth === 'no' ? { foil } : {}), truth },
      });
    // One batch per clip length: the clips of one file share theirs unless the other sound is shorter.
    for (const frames of new Set(asked.map((a) => a.clip.frames))) {
      const group = asked.filter((a) => a.clip.frames === frames);
      const answers = await askBatch(
        opts.model,
        group.map((a) => a.clip),
        group.map((a) => a.text),
      );
      group.forEach((a, k) => questions.push({ ...a.q, answer: answers[k] }));
    }
    opts.progress?.(i + 1);
  }
  return {
    model: opts.model.source,
    part: opts.part,
    files,
    skipped,
    questions,
    templates: score(questions),
    seconds: (performance.now() - t0) / 1000,
  };
}
