/**
 * Every CLI command lives in its own file under src/cli/commands and exports `register(program)`.
 * Add new commands to this list (keep it sorted by name).
 */
import type { Command } from 'commander';

type Register = (program: Command) => void;

export const commandModules: (() => Promise<{ register: Register }>)[] = [
  () => import('./ask.js'),
  () => import('./bench.js'),
  () => import('./demo.js'),
  () => import('./doctor.js'),
  () => import('./emotion.js'),
  () => import('./favor.js'),
  () => import('./features.js'),
  () => import('./index_cmd.js'),
  () => import('./metrics.js'),
  () => import('./retrieve.js'),
  () => import('./sync.js'),
  () => import('./synth.js'),
  () => import('./t2a.js'),
  () => import('./train.js'),
  () => import('./v2a.js'),
  () => import('./worker.js'),
];
