import { join } from 'node:path';

/** The files of a run folder (a light module: the CLI uses it without loading the trainer). */
export const runFiles = (dir: string) => ({
  config: join(dir, 'config.json'),
  log: join(dir, 'log.jsonl'),
  last: join(dir, 'checkpoints', 'last.safetensors'),
  best: join(dir, 'best.safetensors'),
  metrics: join(dir, 'metrics.json'),
  onnx: join(dir, 'model.onnx'),
  report: join(dir, 'report.html'),
});
