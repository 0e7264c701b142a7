/**
 * AV-Synth object classes. A class fixes how an object looks (shape + color) and how its impacts
 * sound (pitch, partial ratios, decay). Classes depend only on their index, never on the seed, so
 * class k is the same in every clip and every dataset.
 */
export type Shape = 'circle' | 'square' | 'triangle' | 'diamond' | 'ring' | 'cross';

export const SHAPES: readonly Shape[] = ['circle', 'square', 'triangle', 'diamond', 'ring', 'cross'];

export const COLORS: readonly { name: string; rgb: [number, number, number] }[] = [
  { name: 'red', rgb: [230, 40, 40] },
  { name: 'green', rgb: [40, 200, 60] },
  { name: 'blue', rgb: [50, 90, 240] },
  { name: 'yellow', rgb: [240, 220, 40] },
  { name: 'magenta', rgb: [220, 50, 220] },
  { name: 'cyan', rgb: [40, 220, 230] },
  { name: 'orange', rgb: [250, 140, 20] },
  { name: 'white', rgb: [245, 245, 245] },
];

/** Partial frequency ratios of the four timbre families (struck string, clarinet-like, bell, drum). */
const FAMILIES: readonly { name: string; ratios: number[] }[] = [
  { name: 'harmonic', ratios: [1, 2, 3, 4, 5] },
  { name: 'odd', ratios: [1, 3, 5, 7] },
  { name: 'bell', ratios: [1, 2.76, 5.4, 8.93] },
  { name: 'membrane', ratios: [1, 1.59, 2.14, 2.65, 2.92] },
];

export const MAX_CLASSES = SHAPES.length * COLORS.length; // 48

export interface SynthClass {
  index: number;
  name: string; // e.g. 'red-circle'
  shape: Shape;
  color: [number, number, number];
  f0: number; // Hz
  ratios: number[]; // partial frequencies = f0 * ratio
  decay: number; // seconds (e-folding time of the fundamental)
  family: string;
}

/**
 * Class k of K. Shape and color both change with k (shape k mod 6, color (k + k div 6) mod 8, so
 * k < 48 are all different); pitch is spaced evenly on a log scale from 180 Hz to 1800 Hz; family and
 * decay cycle so that neighbors in pitch also differ in timbre.
 */
export function synthClass(k: number, count: number): SynthClass {
  const shape = SHAPES[k % SHAPES.length];
  const color = COLORS[(k + Math.floor(k / SHAPES.length)) % COLORS.length];
  const family = FAMILIES[k % FAMILIES.length];
  const f0 = 180 * Math.pow(10, count > 1 ? k / (count - 1) : 0);
  const decay = [0.06, 0.15, 0.1, 0.25, 0.04][k % 5];
  return {
    index: k,
    name: `${color.name}-${shape}`,
    shape,
    color: color.rgb,
    f0,
    ratios: family.ratios,
    decay,
    family: family.name,
  };
}

export function synthClasses(count: number): SynthClass[] {
  return Array.from({ length: count }, (_, k) => synthClass(k, count));
}
