// Every clip of media/real (mp4 with H.264/HEVC, MPEG-PS .mpg; portrait, odd rates, 44.1/48 kHz): the probe agrees
// with the catalog, and a 2 s range from the start and one from the middle decode to exactly the frames and samples
// the timeline asks for, with picture and sound in them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeAudio } from '../../src/media/decode_audio.js';
import { decodeVideo } from '../../src/media/decode_video.js';
import { probe } from '../../src/media/probe.js';
import { REAL_DIR, realClips } from './shared.js';

const clips = realClips();

test('media/real is there with its catalog', () => {
  assert.ok(clips.length >= 20, `only ${clips.length} clips found in ${REAL_DIR}`);
});

for (const clip of clips) {
  test(`real clip ${clip.file}: probe matches the catalog; 2 s of frames and samples decode at the start and middle`, async () => {
    const path = join(REAL_DIR, clip.file);
    const info = await probe(path);
    assert.ok(info.video && info.audio, 'video and audio streams');
    const [w, h] = clip.resolution.split('x').map(Number);
    const sizes = [
      `${info.video.width}x${info.video.height}`,
      `${info.video.displayWidth}x${info.video.displayHeight}`,
    ];
    assert.ok(sizes.includes(`${w}x${h}`), `size ${sizes.join(' / ')} vs catalog ${clip.resolution}`);
    assert.ok(
      Math.abs(info.duration - clip.duration_s) < 0.15,
      `duration ${info.duration} vs catalog ${clip.duration_s}`,
    );
    assert.ok(
      Math.abs(info.video.avgFps - clip.fps) < 0.05 * clip.fps || Math.abs(info.video.fps - clip.fps) < 0.05 * clip.fps,
      `fps ${info.video.fps} / ${info.video.avgFps} vs catalog ${clip.fps}`,
    );
    assert.equal(info.video.codec, clip.video_codec);
    assert.ok(
      clip.audio.startsWith(`${info.audio.codec} ${info.audio.sampleRate} Hz`),
      `audio ${info.audio.codec} ${info.audio.sampleRate} Hz vs ${clip.audio}`,
    );
    const seconds = Math.min(2, info.duration / 2);
    for (const start of [0, Math.max(0, info.duration / 2 - seconds / 2)]) {
      const v = await decodeVideo(path, {
        start,
        duration: seconds,
        fps: 8,
        width: 64,
        height: 64,
        resize: 'center-crop',
        pixelFormat: 'gray',
        info,
      });
      assert.equal(v.frameCount, Math.round(seconds * 8), `frames from ${start.toFixed(2)} s`);
      let lo = 255;
      let hi = 0;
      for (const x of v.frames) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
      assert.ok(hi - lo > 20, `picture from ${start.toFixed(2)} s is flat (${lo}..${hi})`);
      const a = await decodeAudio(path, { start, duration: seconds, sampleRate: 16000, info });
      assert.equal(a.length, Math.round(seconds * 16000));
      assert.ok(a.data.every(Number.isFinite));
      assert.ok(
        a.data.some((x) => Math.abs(x) > 1e-3),
        `sound from ${start.toFixed(2)} s is silent`,
      );
    }
  });
}
