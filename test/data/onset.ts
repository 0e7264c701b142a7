/** Test helpers: finding sound onsets in decoded or generated audio. */

/**
 * Start (s) of the first 1 ms block within +-search of t whose energy exceeds 3x the preceding 20 ms and 20% of
 * the loudest block in that range (so neither noise nor an earlier sound's tail triggers it).
 */
export function onsetNear(x: Float32Array, sr: number, t: number, search = 0.03): number | null {
  const block = Math.round(sr / 1000);
  const energy = (a: number, b: number) => {
    let s = 0;
    for (let i = Math.max(0, a); i < Math.min(x.length, b); i++) s += x[i] * x[i];
    return s / Math.max(1, b - a);
  };
  const s0 = Math.round((t - search) * sr);
  const s1 = Math.round((t + search) * sr);
  let peak = 0;
  for (let s = s0; s < s1; s += block) peak = Math.max(peak, energy(s, s + block));
  for (let s = s0; s < s1; s += block) {
    const e = energy(s, s + block);
    if (e > 0.2 * peak && e > 3 * energy(s - 20 * block, s)) return s / sr;
  }
  return null;
}

/** Whether times[i] is more than `gap` seconds from every other time. */
export function isolated(times: number[], i: number, gap = 0.15): boolean {
  return times.every((t, j) => j === i || Math.abs(t - times[i]) > gap);
}
