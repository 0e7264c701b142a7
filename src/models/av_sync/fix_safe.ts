/**
 * `attune sync VIDEO --fix OUT` that can never make a file worse: measure, check the correction may be tried
 * (fix_check.ts rules 1-2), write the corrected copy under a temporary name beside OUT, measure that copy again
 * with the same estimator and an independent cue (rule 3), and only then rename it to OUT. A refused fix leaves no
 * file behind (the temporary copy, which Attune made, is removed) and the input is never touched.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { autoSync, type AutoEstimate } from './auto.js';
import { DEFAULT_MIN_CONFIDENCE } from './calibration.js';
import { decodeSyncClip, featuresOfShifted, type DecodedSyncClip } from './decoded.js';
import { checkAfter, checkBefore, type FixCheck } from './fix_check.js';
import { fixSync, type FixResult } from './fix.js';
import type { MouthTrack } from './mouth_cue.js';

export interface VerifiedFixOptions {
  /** A known offset (seconds, positive = audio late) instead of the measured one. */
  offset?: number;
  minConfidence?: number;
  mouthTrack?: (clip: DecodedSyncClip) => Promise<MouthTrack | undefined>;
}

export interface VerifiedFixResult extends FixCheck {
  before: AutoEstimate;
  /** The offset the correction removed (seconds). */
  offset: number;
  /** Set when OUT was written. */
  written?: FixResult;
}

async function measure(path: string, minConfidence: number, opts: VerifiedFixOptions): Promise<AutoEstimate> {
  const clip = await decodeSyncClip(path);
  return autoSync(featuresOfShifted(clip, 0), { minConfidence, mouth: await opts.mouthTrack?.(clip) });
}

export async function verifiedFix(
  input: string,
  output: string,
  opts: VerifiedFixOptions = {},
): Promise<VerifiedFixResult> {
  const minConfidence = opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const before = await measure(input, minConfidence, opts);
  const userOffset = opts.offset !== undefined;
  const offset = opts.offset ?? before.offset ?? before.lag;
  const refused = checkBefore(before, offset, userOffset, minConfidence);
  if (refused) return { ...refused, before, offset };
  const ext = extname(output);
  const tmp = join(dirname(resolve(output)), `.${basename(output, ext)}.unverified-${process.pid}${ext}`);
  const written = await fixSync(input, tmp, offset);
  try {
    const check = checkAfter(await measure(tmp, minConfidence, opts), userOffset, minConfidence);
    if (!check.ok) return { ...check, before, offset };
    renameSync(tmp, output);
    return { ...check, before, offset, written: { ...written, output } };
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { force: true });
  }
}
