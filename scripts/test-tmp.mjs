// Runs `node --test` over the given test files with TMPDIR pointing at one fresh folder, removed afterwards: the tests
// (and the browsers, ffmpeg and ONNX Runtime they start) make their scratch folders under os.tmpdir(), and without
// this every run left a few hundred of them in /tmp. Only the folder made here is removed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs the files; returns node's exit status. */
export function runTestsInTempRoot(files, extraArgs = []) {
  const root = mkdtempSync(join(tmpdir(), 'attune-test-'));
  try {
    const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...extraArgs, ...files], {
      stdio: 'inherit',
      env: { ...process.env, TMPDIR: root },
    });
    return r.status ?? 1;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
