/**
 * The ground truth questions are asked about: an AV-Synth scene as objects (look, sound, every wall
 * impact over the simulated span) with no pixels or samples. Built from simulateScene with the very key
 * generateClip uses, so it describes exactly the clip that is rendered.
 */
import { Rng } from '../../util/rng.js';
import { Shape, synthClasses } from '../synth/classes.js';
import { sceneKey, sceneVoices } from '../synth/clip.js';
import type { SynthConfig } from '../synth/config.js';
import { simulateScene } from '../synth/scene.js';
import { AvqaConfig, AvqaSplit, sceneDuration, sceneId, sceneSplit, sceneSynthConfig } from './config.js';

export const SOUND_WORDS = ['piano', 'clarinet', 'bell', 'drum'] as const;
export type SoundWord = (typeof SOUND_WORDS)[number];

/** Partial family (synth classes) -> the word questions use for it. */
export const FAMILY_WORD: Record<string, SoundWord> = {
  harmonic: 'piano',
  odd: 'clarinet',
  bell: 'bell',
  membrane: 'drum',
};

export interface AvqaObject {
  id: number;
  cls: number;
  sounding: boolean;
  shape: Shape;
  /** Color word; 'gray' for silent distractors (drawn gray whatever their class). */
  color: string;
  /** 'red circle', 'gray square'. */
  name: string;
  /** Class whose sound this object makes in this scene (null: silent). */
  voice: number | null;
  sound: SoundWord | null;
  /** Every wall impact, seconds, over the simulated span [-margin, duration + margin], sorted. */
  bounces: number[];
}

export interface AvqaImpact {
  time: number;
  object: number;
  sounding: boolean;
}

export interface AvqaScene {
  id: string;
  index: number;
  split: AvqaSplit;
  duration: number;
  synth: SynthConfig;
  objects: AvqaObject[];
  /** All objects' impacts over the simulated span, sorted by time (silent ones included). */
  impacts: AvqaImpact[];
}

/** Scene `index` (at another length when `duration` is given: what foil audio is rendered from). */
export function avqaScene(cfg: AvqaConfig, index: number, duration = sceneDuration(cfg, index)): AvqaScene {
  const synth = sceneSynthConfig(cfg, index, duration);
  const key = sceneKey(synth, index);
  const scene = simulateScene(synth, new Rng(key));
  const voices = sceneVoices(key, synth.classes);
  const classes = synthClasses(synth.classes);
  const objects: AvqaObject[] = scene.objects.map((o) => {
    const cls = classes[o.cls];
    const color = o.sounding ? cls.name.slice(0, cls.name.indexOf('-')) : 'gray';
    const voice = o.sounding ? voices[o.cls] : null;
    // A segment ends at a wall impact, except the last one, which ends with the simulated span.
    const bounces = o.segments.slice(0, -1).map((s) => s.t1);
    return {
      id: o.id,
      cls: o.cls,
      sounding: o.sounding,
      shape: cls.shape,
      color,
      name: `${color} ${cls.shape}`,
      voice,
      sound: voice === null ? null : FAMILY_WORD[classes[voice].family],
      bounces,
    };
  });
  const impacts = objects
    .flatMap((o) => o.bounces.map((time) => ({ time, object: o.id, sounding: o.sounding })))
    .sort((a, b) => a.time - b.time || a.object - b.object);
  return { id: sceneId(index), index, split: sceneSplit(cfg, index), duration, synth, objects, impacts };
}
