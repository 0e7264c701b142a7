import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAudio } from '../../src/media/decode_audio.js';
import { decodeVideo } from '../../src/media/decode_video.js';
import { extractFeatures } from '../../src/media/features.js';
import { binaryPath, runFfmpeg } from '../../src/media/ffmpeg.js';
import { probe } from '../../src/media/probe.js';
import { InputError, MediaError, NumericError } from '../../src/util/errors.js';
import { makeMedia, tempDir } from './fixtures.js';

const tmp = tempDir();
let av: string;
let videoOnly: string;
let audioOnly: string;

/** A RIFF/WAVE file by hand: `format` 1 = PCM s16, 3 = IEEE float32, anything else = a codec nobody decodes. */
function wav(path: string, format: number, sampleRate: number, payload: Uint8Array): string {
  const bits = format === 3 ? 32 : 16;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + payload.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(format, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE((sampleRate * bits) / 8, 28);
  header.writeUInt16LE(bits / 8, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36);
  header.writeUInt32LE(payload.length, 40);
  writeFileSync(path, Buffer.concat([header, payload]));
  return path;
}

before(async () => {
  av = await makeMedia(join(tmp.dir, 'av.mp4'), [
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=64x48:r=25:d=4',
    '-f',
    'lavfi',
    '-i',
    'sine=f=300:d=4',
    '-c:v',
    'libx264',
    '-c:a',
    'aac',
    '-movflags',
    '+faststart',
  ]);
  videoOnly = await makeMedia(join(tmp.dir, 'video_only.mp4'), [
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=64x48:r=25:d=1',
    '-c:v',
    'libx264',
  ]);
  audioOnly = await makeMedia(join(tmp.dir, 'audio_only.wav'), ['-f', 'lavfi', '-i', 'sine=d=1']);
});
after(() => tmp.cleanup());

async function rejectsWith(p: Promise<unknown>, type: new (...a: never[]) => Error, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error).name}: ${(err as Error).message}`);
    assert.match((err as Error).message, pattern);
    return true;
  });
}

test('unreadable paths: missing file and a directory give InputError naming the path', async () => {
  const missing = join(tmp.dir, 'nope.mp4');
  await rejectsWith(probe(missing), InputError, /nope\.mp4: no such file/);
  await rejectsWith(decodeAudio(missing, { sampleRate: 16000 }), InputError, /nope\.mp4/);
  const dir = join(tmp.dir, 'a_dir.mp4');
  mkdirSync(dir);
  await rejectsWith(probe(dir), InputError, /a_dir\.mp4: not a regular file/);
});

test('empty, corrupt and truncated files give MediaError with the file name and ffmpeg reason', async () => {
  const empty = join(tmp.dir, 'empty.mp4');
  writeFileSync(empty, '');
  await rejectsWith(probe(empty), MediaError, /empty\.mp4: empty file/);
  const junk = join(tmp.dir, 'junk.mp4');
  writeFileSync(junk, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
  await rejectsWith(
    probe(junk),
    MediaError,
    /junk\.mp4: (ffprobe exited with code 1|libav cannot read it): .*Invalid data/,
  );
  // Cut inside the media data: the header (moov first) still promises 4 s.
  const bytes = readFileSync(av);
  const truncated = join(tmp.dir, 'truncated.mp4');
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.4)));
  const info = await probe(truncated);
  assert.ok(info.duration > 3.9);
  await rejectsWith(
    decodeVideo(truncated, { fps: 25, info }),
    MediaError,
    /truncated\.mp4: truncated or corrupt video: decoded \d+ of 100 frames/,
  );
  // Without the header (moov at the end by default) ffprobe cannot open it at all.
  const noHeader = join(tmp.dir, 'no_moov.mp4');
  const plain = await makeMedia(join(tmp.dir, 'plain.mp4'), [
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=64x48:r=25:d=2',
    '-c:v',
    'libx264',
  ]);
  writeFileSync(noHeader, readFileSync(plain).subarray(0, 3000));
  // ffprobe names the missing moov atom; libav's open fails with FFmpeg's generic reason (its log line naming the atom
  // is not always captured before the error returns).
  await rejectsWith(
    probe(noHeader),
    MediaError,
    /no_moov\.mp4: .*(moov atom not found|libav cannot read it: .*Invalid data found when processing input)/,
  );
});

test('missing streams are reported, not crashed on', async () => {
  const v = await probe(videoOnly);
  assert.equal(v.audio, null);
  assert.ok(v.video);
  await rejectsWith(
    decodeAudio(videoOnly, { sampleRate: 16000 }),
    MediaError,
    /video_only\.mp4: no audio stream \(streams: video\/h264\)/,
  );
  const a = await probe(audioOnly);
  assert.equal(a.video, null);
  await rejectsWith(decodeVideo(audioOnly, { fps: 8 }), MediaError, /audio_only\.wav: no video stream/);
  // Extraction keeps what exists and lists the rest; strict mode refuses.
  const r = await extractFeatures(videoOnly, 'av-basic');
  assert.deepEqual(r.missing, ['audio']);
  assert.ok(r.streams['video.motion']);
  await rejectsWith(extractFeatures(videoOnly, 'av-basic', { strict: true }), MediaError, /needs audio/);
  await rejectsWith(extractFeatures(audioOnly, 'video-basic'), MediaError, /no video stream/);
});

test('zero-length audio and an unsupported codec give MediaError', async () => {
  const zero = wav(join(tmp.dir, 'zero.wav'), 1, 16000, new Uint8Array(0));
  await rejectsWith(
    decodeAudio(zero, { sampleRate: 16000 }),
    MediaError,
    /zero\.wav: the audio stream decoded to zero samples/,
  );
  const odd = wav(join(tmp.dir, 'odd_codec.wav'), 0x7777, 16000, new Uint8Array(3200));
  await rejectsWith(
    decodeAudio(odd, { sampleRate: 16000 }),
    MediaError,
    /odd_codec\.wav: (ffmpeg exited with code 1|libav cannot decode stream 0 .*Decoder not found)/,
  );
});

test('NaN samples in decoded audio give NumericError naming the file and the sample', async () => {
  const samples = new Float32Array(1600).fill(0.25);
  samples[800] = Number.NaN;
  const nan = wav(join(tmp.dir, 'nan.wav'), 3, 16000, new Uint8Array(samples.buffer));
  await rejectsWith(
    decodeAudio(nan, { sampleRate: 16000 }),
    NumericError,
    /nan\.wav: decoded audio has a non-finite sample \(NaN\) at sample 800/,
  );
});

test('bad options give InputError naming the field', async () => {
  await rejectsWith(decodeVideo(av, { fps: 0 }), InputError, /fps must be a positive number/);
  await rejectsWith(decodeVideo(av, { fps: 8, width: 0 }), InputError, /width must be an integer/);
  await rejectsWith(decodeAudio(av, { sampleRate: 16000, start: -1 }), InputError, /start must be/);
  await rejectsWith(decodeAudio(av, { sampleRate: 16000, start: 9 }), MediaError, /past the end/);
  await rejectsWith(decodeVideo(av, { fps: 8, start: 9 }), MediaError, /no video frames/);
  await rejectsWith(extractFeatures(av, 'no-such-preset'), InputError, /unknown feature preset/);
});

test('ffmpeg binaries: env override must be executable; runFfmpeg errors carry stderr', async () => {
  assert.match(binaryPath('ffmpeg'), /ffmpeg/);
  const saved = process.env.ATTUNE_FFPROBE;
  process.env.ATTUNE_FFPROBE = join(tmp.dir, 'not-there');
  try {
    assert.throws(() => binaryPath('ffprobe'), /ATTUNE_FFPROBE=.*not-there is not an executable/);
  } finally {
    if (saved === undefined) delete process.env.ATTUNE_FFPROBE;
    else process.env.ATTUNE_FFPROBE = saved;
  }
  await rejectsWith(
    runFfmpeg(['-i', join(tmp.dir, 'missing.wav'), '-f', 'null', '-'], { file: 'missing.wav' }),
    MediaError,
    /missing\.wav: ffmpeg exited with code 1: .*No such file/,
  );
});
