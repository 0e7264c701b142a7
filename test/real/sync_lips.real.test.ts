import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { iterateVideoFrames, planVideo } from '../../src/media/decode_video.js';
import { probe } from '../../src/media/probe.js';
import { decodeSyncClip, defaultRealDir } from '../../src/models/av_sync/index.js';
import { faceMesh, mouthTracksOf } from '../../src/models/av_sync/face_track.js';
import { LIP_DIM } from '../../src/models/av_sync/lip_shape.js';

/**
 * The lip path on real clips (../shared/media/real or $ATTUNE_REAL_MEDIA): several faces found in the 4-way CNN
 * panel, and a GRID talking head tracked with its lip shapes. Skipped, saying so, without the clips.
 */
const dir = defaultRealDir();
const present = existsSync(join(dir, 'catalog.jsonl'));
const skip = present ? false : `real clips not found at ${dir} (../shared/media/real; set ATTUNE_REAL_MEDIA)`;

test('blazeface finds a face in each of the four tiles of a split-screen panel', { skip }, async () => {
  const path = join(dir, 'talkinghead_avobjects-cnn-panel.mp4');
  const info = await probe(path);
  const decode = { start: 1, duration: 0.04, fps: 25, info, pixelFormat: 'rgb' as const, width: 480 };
  const { timeline } = await planVideo(path, decode);
  const mesh = await faceMesh();
  for await (const frame of iterateVideoFrames(path, decode)) {
    const faces = await mesh.detectAll({ data: frame.data, width: timeline.width, height: timeline.height }, 0.5, 8);
    const tiles = new Set(faces.map((f) => `${f.cx < timeline.width / 2}${f.cy < timeline.height / 2}`));
    assert.equal(tiles.size, 4, JSON.stringify(faces));
    break;
  }
});

test('a GRID talking head gets one track with a lip shape on every tracked frame', { skip }, async () => {
  const clip = await decodeSyncClip(join(dir, 'talkinghead_grid-lbbc2a.mpg'));
  const tracks = await mouthTracksOf(clip);
  assert.equal(tracks.length, 1);
  const t = tracks[0];
  assert.equal(t.lips!.length, t.mask.length * LIP_DIM);
  for (let f = 0; f < t.mask.length; f++) {
    const row = t.lips!.subarray(f * LIP_DIM, (f + 1) * LIP_DIM);
    // Present frames: a mouth one corner-distance wide; absent ones: zeros.
    assert.equal(
      row.some((x) => x !== 0),
      t.mask[f] === 1,
      `frame ${f}`,
    );
  }
});
