/**
 * The real-clip development set (../shared/media/real, not committed): its catalog and the fixed split into a
 * development part (cues and calibration are tuned there) and a held-out part (only evaluated). The split is by
 * clip, stratified by stratum (the catalog category; GRID studio clips are their own stratum because they are 3 s
 * long and framed alike), each stratum sorted by file name, shuffled with Rng(SPLIT_SEED) and its first
 * round(n / 3) clips held out. The result is committed in real_split.ts (REAL_SPLIT); test/real checks it is reproducible.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';

export const SPLIT_SEED = 9;

export interface RealClip {
  file: string;
  category: string;
  duration_s: number;
  notes?: string;
  known_out_of_sync?: boolean;
}

export interface RealSplit {
  seed: number;
  rule: string;
  dev: string[];
  heldOut: string[];
}

/** Default location of the real clips beside a checkout (the lead's shared folder). */
export function defaultRealDir(): string {
  return resolve(process.env.ATTUNE_REAL_MEDIA ?? join(process.cwd(), '..', 'shared', 'media', 'real'));
}

export function readRealCatalog(dir: string): RealClip[] {
  const path = join(dir, 'catalog.jsonl');
  if (!existsSync(path))
    throw new InputError(
      `${path} not found: the real clips live in ../shared/media/real (set ATTUNE_REAL_MEDIA to another folder)`,
      { file: path },
    );
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((line, i) => {
      const e = JSON.parse(line) as RealClip;
      if (typeof e.file !== 'string' || typeof e.category !== 'string')
        throw new InputError(`${path}:${i + 1}: expected "file" and "category" strings`, { file: path, line: i + 1 });
      return e;
    });
}

export function stratumOf(c: RealClip): string {
  return c.file.includes('_grid-') ? 'talking head (GRID)' : c.category;
}

/** The split rule applied to a catalog (what real_split.json holds). */
export function splitCatalog(clips: RealClip[], seed = SPLIT_SEED): RealSplit {
  const strata = new Map<string, string[]>();
  for (const c of clips) strata.set(stratumOf(c), [...(strata.get(stratumOf(c)) ?? []), c.file]);
  const rng = new Rng(seed);
  const dev: string[] = [];
  const heldOut: string[] = [];
  for (const name of [...strata.keys()].sort()) {
    const files = strata.get(name)!.sort();
    rng.shuffle(files);
    const k = Math.round(files.length / 3);
    heldOut.push(...files.slice(0, k));
    dev.push(...files.slice(k));
  }
  return {
    seed,
    rule: 'by clip, stratified by category (GRID apart), sorted, shuffled with Rng(seed), round(n/3) held out',
    dev: dev.sort(),
    heldOut: heldOut.sort(),
  };
}
