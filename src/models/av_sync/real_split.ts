/**
 * The committed split of the real clips (../shared/media/real) into a development part and a held-out part, made by
 * splitCatalog (real_clips.ts) with seed 9: by clip, stratified by category (GRID apart), sorted, shuffled with
 * Rng(seed), round(n/3) held out. Never edit by hand: test/real/sync_split.real.test.ts checks that the rule
 * reproduces it from the catalog.
 */
import type { RealSplit } from './real_clips.js';

export const REAL_SPLIT: RealSplit = {
  seed: 9,
  rule: 'by clip, stratified by category (GRID apart), sorted, shuffled with Rng(seed), round(n/3) held out',
  dev: [
    'animal_vggsound-canary.mp4',
    'impact_avsync15-gunshot.mp4',
    'impact_condfoleygen-hitting-bag.mp4',
    'impact_difffoley-gun.mp4',
    'impact_vas-fireworks.mp4',
    'music_vggsound-doublebass-54bz5yqN2IA.mp4',
    'other_vas-baby.mp4',
    'talkinghead_avobjects-cnn-panel.mp4',
    'talkinghead_grid-lbbc2a.mpg',
    'talkinghead_grid-lrwp9a.mpg',
    'talkinghead_grid-lwbsza.mpg',
    'talkinghead_grid-pwij3p.mpg',
    'talkinghead_grid-sbia1a.mpg',
    'talkinghead_latentsync-demo1.mp4',
    'talkinghead_lrs2-00019.mp4',
    'talkinghead_retalk-face1.mp4',
    'talkinghead_retalk-face2.mp4',
    'talkinghead_visualvoice-interview.mp4',
    'talkinghead_vox2-00098.mp4',
    'talkinghead_w2lgfpgan-kim.mp4',
    'talkinghead_wav2lip-pr600.mov',
    'vehicle_vggsound-engine-1pRmoJIGQc.mp4',
  ],
  heldOut: [
    'impact_activitynet-weightlifting.mp4',
    'impact_condfoleygen-chopping.mp4',
    'music_difffoley-drumkit.mp4',
    'talkinghead_grid-brbk7n.mpg',
    'talkinghead_grid-id2_vcd_swwp2s.mpg',
    'talkinghead_grid-lbax4n.mpg',
    'talkinghead_latentsync-demo3.mp4',
    'talkinghead_retalk-face5.mp4',
    'talkinghead_vox2-00015.mp4',
    'talkinghead_vox2-741400104.mp4',
    'vehicle_difffoley-dragcar.mp4',
  ],
};
