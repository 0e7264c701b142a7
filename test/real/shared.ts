/**
 * Real footage for `npm run test:real` (never for `npm test`): the project's shared folder beside the clone
 * (`../shared`, as CI lays it; override with ATTUNE_SHARED). scripts/test-real.mjs skips the suite when it is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The shared folder. */
export const SHARED = resolve(process.env.ATTUNE_SHARED ?? '../shared');

/** The real 10 s clip (1280x720, 30 fps, 44.1 kHz stereo AAC, a child's face); override: ATTUNE_TEST_CLIP. */
export const BABY_CLIP = process.env.ATTUNE_TEST_CLIP ?? join(SHARED, 'media', 'baby_30fps_44k.mp4');

export const REAL_DIR = join(SHARED, 'media', 'real');

/** One line of media/real/catalog.jsonl (the fields the tests read). */
export interface CatalogEntry {
  file: string;
  category: string;
  duration_s: number;
  resolution: string;
  fps: number;
  video_codec: string;
  audio: string;
}

/** The catalog's entries whose file is present. */
export function realClips(): CatalogEntry[] {
  const catalog = join(REAL_DIR, 'catalog.jsonl');
  if (!existsSync(catalog)) return [];
  return readFileSync(catalog, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CatalogEntry)
    .filter((e) => existsSync(join(REAL_DIR, e.file)));
}
