/** The toy-scale `attune train v2a` run the v2a tests share (tiny variant, 1 s clips, 12 clips, one epoch). */
import { getTask } from '../../src/models/registry.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';

const TOY = [
  'variant="tiny"',
  'data.seconds=1',
  'data.classifierClips=8',
  'data.eval.clips=2',
  'data.eval.steps=2',
  'data.eval.sweep=false',
  'data.eval.griffinLim=4',
  'train.epochs=1',
  'train.export=false',
  'train.report=false',
  'train.worker=false',
];

/** Trains the toy run into `out` with `extra` overrides after the toy ones; returns the run's status. */
export async function trainToyV2a(out: string, extra: string[] = []): Promise<string> {
  const task = await getTask('v2a');
  const config = resolveConfig(task, { source: 'synth', overrides: parseOverrides([...TOY, ...extra]) });
  const r = await runTraining({ task, config, source: { kind: 'synth', clips: 12 }, out, quiet: true });
  return r.status;
}
