import { existsSync, renameSync, rmSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { ffFile, runFfmpeg } from '../../media/ffmpeg.js';
import { tempPathFor } from '../../util/atomic.js';
import { probe, requireAudio, requireVideo } from '../../media/probe.js';
import { InputError, MediaError } from '../../util/errors.js';

/**
 * Writes a copy of `input` with its audio moved by -offset seconds, so a clip measured `offset` s out of sync
 * (positive = audio late) comes out in sync: `-itsoffset` on a second read of the input, used only for its audio.
 * Streams are copied without re-encoding when the output container accepts them; otherwise the audio (then the
 * video too) is re-encoded. The file appears atomically (written under a temporary name, then renamed).
 */
export type FixMode = 'copy' | 'audio-reencode' | 'reencode';

export interface FixResult {
  output: string;
  /** Seconds the audio was moved (= -offset). */
  shift: number;
  mode: FixMode;
  args: string[];
}

const MODES: { mode: FixMode; codecs: string[] }[] = [
  { mode: 'copy', codecs: ['-c', 'copy'] },
  { mode: 'audio-reencode', codecs: ['-c:v', 'copy', '-c:a', 'aac', '-b:a', '192k'] },
  // Last resort: the container's default encoders (H.264/AAC for MP4, VP9/Opus for WebM, ...).
  { mode: 'reencode', codecs: [] },
];

export async function fixSync(input: string, output: string, offset: number): Promise<FixResult> {
  if (!Number.isFinite(offset))
    throw new InputError(`--fix: offset must be a finite number of seconds, got ${offset}`, {
      field: 'offset',
      got: offset,
    });
  if (resolve(input) === resolve(output))
    throw new InputError(`--fix ${output}: refusing to overwrite the input; choose another output path`, {
      file: output,
      field: '--fix',
    });
  if (!extname(output))
    throw new InputError(`--fix ${output}: give the output a container extension (.mp4, .mkv, .mov)`, {
      file: output,
      field: '--fix',
    });
  const info = await probe(input, { scanPackets: 0 });
  const video = requireVideo(info);
  const audio = requireAudio(info);
  const shift = Math.round(-offset * 1e6) / 1e6;
  const tmp = tempPathFor(resolve(output), extname(output));
  const errors: string[] = [];
  for (const { mode, codecs } of MODES) {
    const args = [
      '-y',
      '-i',
      ffFile(input),
      '-itsoffset',
      String(shift),
      '-i',
      ffFile(input),
      '-map',
      `0:${video.index}`,
      '-map',
      `1:${audio.index}`,
      ...codecs,
      '-map_metadata',
      '0',
      ffFile(tmp),
    ];
    try {
      await runFfmpeg(args, { file: input });
      renameSync(tmp, output);
      return { output, shift, mode, args };
    } catch (err) {
      errors.push(`${mode}: ${err instanceof Error ? err.message : String(err)}`);
      if (existsSync(tmp)) rmSync(tmp, { force: true });
    }
  }
  throw new MediaError(
    `${input}: could not write ${output} with the audio moved by ${shift} s (${errors.join('; ')})`,
    { file: input, output, reason: 'ffmpeg failed' },
  );
}
