/**
 * Starting the stream encoders from a stage-1 run (pretrain.ts, `model.encoders=RUN`) and freezing them
 * (`model.freezeEncoders`): FAVOR's encoders are pretrained elsewhere and frozen; ours are pretrained here.
 */
import type { Scope } from '../../engine/index.js';
import { loadRun, readRunConfig } from '../../train/files.js';
import { ConfigError, InputError } from '../../util/errors.js';
import type { FavorConfig } from './config.js';

/** Encoder settings that must agree between a stage-1 run and the model it starts. */
const ENCODER_FIELDS = [
  'visualStem',
  'stemDim',
  'stemPool',
  'frameContext',
  'patch',
  'frameSize',
  'pixelDim',
  'visualDim',
  'audioDim',
  'audioKernel',
] as const;

/**
 * Whether the stage-1 run `cfg.encoders` trained the audio counting head (model.onsetAux > 0), which stage 2's
 * countTokens 'audio' then starts from and keeps frozen. Reads its config.json only; false when it cannot be read
 * (a trained run loaded for inference whose stage-1 folder has moved: its store holds every weight already).
 */
function stageOneCountHead(cfg: FavorConfig): boolean {
  if (!cfg.encoders || cfg.countTokens !== 'audio') return false;
  const model = readRunConfig(cfg.encoders)?.model as { onsetAux?: number } | undefined;
  return (model?.onsetAux ?? 0) > 0;
}

/**
 * Puts a stage-1 run's encoder weights (and its audio counting head, for countTokens 'audio') into the store under `p`
 * (the 'encoder' scope) unless the store already holds encoder weights (a trained run being loaded for inference),
 * and freezes them with `freezeEncoders`.
 */
export function seedEncoders(p: Scope, cfg: FavorConfig): void {
  const prefixes = [p.path('visual'), p.path('audio'), ...(stageOneCountHead(cfg) ? [p.path('count_head')] : [])];
  const own = (name: string) => prefixes.some((x) => name.startsWith(`${x}.`));
  if (cfg.freezeEncoders) for (const x of prefixes) p.store.freeze(x);
  if (!cfg.encoders || p.store.names().some(own)) return;
  const run = loadRun(cfg.encoders, { tasks: ['favor'], flag: 'model.encoders' });
  const theirs = (run.config.model ?? {}) as Record<string, unknown>;
  for (const f of ENCODER_FIELDS) {
    const mine = cfg[f];
    // Fields a run saved before they existed take their schema defaults.
    const got =
      theirs[f] ??
      { visualStem: 'patch', stemDim: 16, stemPool: 'early', frameContext: 0, pixelDim: 0, frameSize: 32 }[f as string];
    if (got !== mine)
      throw new ConfigError(`model.encoders ${cfg.encoders}: its model.${f} is ${String(got)}, this run's ${mine}`, {
        field: `model.${f}`,
        expected: mine,
        got,
      });
  }
  let loaded = 0;
  for (const [name, value] of Object.entries(run.params)) {
    const local = name.replace(/^encoder\./, '');
    const full = p.path(local);
    if (!own(full)) continue;
    p.store.set(full, value);
    loaded++;
  }
  if (!loaded)
    throw new InputError(`model.encoders ${cfg.encoders}: ${run.weightsPath} holds no encoder weights`, {
      file: run.weightsPath,
      field: 'model.encoders',
    });
}
