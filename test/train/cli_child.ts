import { registerTask } from '../../src/models/registry.js';
import { toyTask } from './toy.js';

/**
 * Runs `attune train toy ...` in a child process (signal.test.ts spawns it): registers the toy task,
 * then hands the CLI the arguments after `--`. Does nothing unless ATTUNE_TRAIN_CHILD=1, because the
 * test runner also loads every file under test/.
 */
if (process.env.ATTUNE_TRAIN_CHILD === '1') {
  registerTask(toyTask);
  const args = process.argv.slice(process.argv.indexOf('--') + 1);
  process.argv = [process.argv[0], 'attune', ...args];
  await import('../../src/cli/main.js');
}
