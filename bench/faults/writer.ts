/**
 * Child of the fault run: writes checkpoint version 1, 2, 3, ... to one path, as fast as it can, through the
 * trainer's own writer (saveCheckpoint -> writeFileAtomic), and prints "k" once version k is in place. The parent
 * kills it with SIGKILL at a random moment and checks the file on disk: a whole version >= the last one printed.
 *   node dist/bench/faults/writer.js PATH MEGABYTES
 */
import { saveCheckpoint } from '../../src/engine/checkpoint.js';
import { hostArray } from '../../src/io/array.js';

const [path, mb] = [process.argv[2], Number(process.argv[3] ?? 4)];
const n = Math.max(1, Math.floor((mb * 1024 * 1024) / 4 / 2));
for (let k = 1; ; k++) {
  const fill = (v: number) => hostArray('float32', [n], new Float32Array(n).fill(v));
  saveCheckpoint(path, {
    step: k,
    params: { w: fill(k) },
    optimState: { 'm.w': fill(-k) },
    rng: { data: null },
    config: { version: k },
  });
  process.stdout.write(`${k}\n`);
}
