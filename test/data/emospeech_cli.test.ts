import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('attune synth emospeech: two processes with one seed write byte-identical folders; missing --n exits 2', async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'attune-emo-cli-')), mkdtempSync(join(tmpdir(), 'attune-emo-cli-'))];
  try {
    for (const dir of dirs) {
      const { stdout } = await run('node', [
        'bin/attune.js',
        'synth',
        'emospeech',
        '--n',
        '7',
        '--seed',
        '2',
        '--out',
        dir,
        '--json',
      ]);
      const summary = JSON.parse(stdout);
      assert.deepEqual(summary.counts, { train: 5, val: 1, test: 1 });
      assert.equal(summary.synthesized + summary.cached, 7);
      assert.ok(summary.utterancesPerCpuSecond > 0);
    }
    const files = (d: string) => readdirSync(join(d, 'audio')).sort();
    assert.deepEqual(files(dirs[1]), files(dirs[0]));
    for (const f of files(dirs[0]))
      assert.ok(readFileSync(join(dirs[0], 'audio', f)).equals(readFileSync(join(dirs[1], 'audio', f))), f);
    for (const split of ['train', 'val', 'test'])
      assert.equal(
        readFileSync(join(dirs[0], `${split}.jsonl`), 'utf8'),
        readFileSync(join(dirs[1], `${split}.jsonl`), 'utf8'),
      );
    await assert.rejects(
      run('node', ['bin/attune.js', 'synth', 'emospeech', '--out', dirs[0]]),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /required option '--n <n>' not specified/);
        return true;
      },
    );
    await assert.rejects(
      run('node', ['bin/attune.js', 'synth', 'speech', '--n', '2', '--out', dirs[0]]),
      /required option '--clips <n>'|unknown command 'speech'|too many arguments/,
    );
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
