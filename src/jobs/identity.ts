/**
 * A trained run's identity for result keys: sha256 of its weights file plus its config and test metrics (the
 * temperature lives there), so retraining into the same folder gives new keys while moving the folder does not.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, hashFile } from '../data/cache.js';
import { loadRun } from '../train/files.js';

export async function runIdentity(path: string, tasks: readonly string[]): Promise<string> {
  const run = loadRun(path, { tasks });
  const weights = await hashFile(run.weightsPath);
  return createHash('sha256')
    .update(weights)
    .update('\n')
    .update(canonicalJson(run.config))
    .update('\n')
    .update(canonicalJson(run.metrics?.test ?? null))
    .digest('hex');
}
