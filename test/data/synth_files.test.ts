import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifest } from '../../src/data/manifest.js';
import { generateClip, writeSynth } from '../../src/data/synth/index.js';
import { decodeAudio } from '../../src/media/decode_audio.js';
import { decodeVideo } from '../../src/media/decode_video.js';
import { isolated, onsetNear } from './onset.js';

const config = { duration: 3, size: 64, fps: 16 };

test('synth writes MP4 + WAV through ffmpeg; the decoder reads impacts back where ground truth says', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-synth-'));
  try {
    const summary = await writeSynth({ clips: 2, out: dir, config, shifts: [0.6], quiet: true });
    assert.equal(summary.files, 4);
    assert.deepEqual(summary.failed, []);
    const { items } = readManifest(join(dir, 'manifest.jsonl'), { checkFiles: true });
    assert.deepEqual(
      items.map((i) => i.id),
      ['clip000000', 'clip000000_s+0.60', 'clip000001', 'clip000001_s+0.60'],
    );
    const meta = JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8'));
    assert.match(meta.offsetConvention, /positive offset = audio late/);

    let checked = 0;
    for (const item of items) {
      const offset = item.labels!.offset as number;
      const heard = item.metadata!.audioEvents as number[];
      // Every impact seen at t is heard at t + offset (impacts from before 0 may also be heard when audio is late).
      const seen = item.events!.map((e) => e.time);
      for (const t of seen)
        if (t + offset < 3)
          assert.ok(
            heard.some((h) => Math.abs(h - t - offset) < 1e-5),
            `impact ${t} not heard`,
          );
      if (offset === 0) assert.deepEqual(heard, seen);
      for (const path of [item.audio!, item.video!]) {
        const audio = await decodeAudio(path, { sampleRate: 16000 });
        assert.ok(Math.abs(audio.length - 48000) <= 1024, `${path}: ${audio.length} samples`);
        for (let k = 0; k < heard.length; k++) {
          if (!isolated(heard, k) || heard[k] < 0.05) continue;
          const found = onsetNear(audio.data, 16000, heard[k]);
          assert.ok(
            found !== null && Math.abs(found - heard[k]) <= 0.003,
            `${path}: onset ${found} vs truth ${heard[k]}`,
          );
          checked++;
        }
      }
    }
    assert.ok(checked >= 4, `only ${checked} onsets checked`);

    // Video frames decode at the written rate and match the in-memory fast path (H.264 at crf 18 is near-lossless).
    const video = await decodeVideo(items[0].video!, { fps: 16 });
    assert.equal(video.frameCount, 48);
    assert.equal(video.width, 64);
    const mem = generateClip(config, 0);
    let err = 0;
    for (let i = 0; i < mem.video.length; i++) err += Math.abs(mem.video[i] - video.frames[i]);
    assert.ok(err / mem.video.length < 6, `mean abs pixel error ${err / mem.video.length}`);
    // Impacts are visible where ground truth says: the first frame after each impact is brighter (the flash).
    const frameBytes = 64 * 64 * 3;
    const brightness = (f: number) =>
      video.frames.subarray(f * frameBytes, (f + 1) * frameBytes).reduce((x, y) => x + y, 0);
    let flashes = 0;
    for (const e of items[0].events!) {
      const f = Math.ceil(e.time * 16);
      if (
        f < 1 ||
        f >= 48 ||
        f / 16 - e.time > 0.09 ||
        items[0].events!.some((o) => o !== e && Math.abs(o.time - e.time) < 0.2)
      )
        continue;
      assert.ok(brightness(f) > brightness(f - 1) + 2000, `no flash in decoded frame ${f} for impact at ${e.time}`);
      flashes++;
    }
    assert.ok(flashes >= 1);
    assert.ok(!existsSync(join(dir, 'clips', 'clip000000.mp4.tmp.mp4')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
