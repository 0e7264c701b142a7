/**
 * Runs `attune train ...` with the toy task registered, in a child process (cli_child.ts); `watch` sends the
 * child a signal once the run's log holds `afterSteps` step lines.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readLog } from '../../src/train/log.js';

const CHILD = fileURLToPath(new URL('./cli_child.js', import.meta.url));

export function cli(
  args: string[],
  watch?: { log: string; afterSteps: number; signal: NodeJS.Signals },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, '--', ...args], { env: { ...process.env, ATTUNE_TRAIN_CHILD: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timer: NodeJS.Timeout | undefined;
    if (watch) {
      timer = setInterval(() => {
        const steps = readLog(watch.log).filter((l) => l.type === 'step').length;
        if (steps >= watch.afterSteps) {
          clearInterval(timer);
          child.kill(watch.signal);
        }
      }, 20);
    }
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
