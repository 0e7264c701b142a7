/**
 * Child of the fault run for inputs that could block a reader outright (a named pipe makes a plain readFileSync
 * wait forever, where no in-process time limit can fire): reads PATH with the reader for KIND and prints
 * {"ok": true} or {"error": {name, message, typed}} on stdout. The parent kills it when it does not answer.
 *   node dist/bench/faults/read.js npy|safetensors|manifest|media PATH
 */
import { loadNpy } from '../../src/io/npy.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { readManifest } from '../../src/data/manifest.js';
import { extractFeatures } from '../../src/media/features.js';
import { AttuneError } from '../../src/util/errors.js';

const [kind, path] = process.argv.slice(2);
const readers: Record<string, (p: string) => unknown> = {
  npy: loadNpy,
  safetensors: loadSafetensors,
  manifest: (p) => readManifest(p),
  media: (p) => extractFeatures(p, 'av-basic', {}),
};
try {
  await readers[kind](path);
  process.stdout.write(JSON.stringify({ ok: true }) + '\n');
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  process.stdout.write(
    JSON.stringify({ error: { name: e.name, message: e.message, typed: err instanceof AttuneError } }) + '\n',
  );
}
