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

/** Where stage 1 keeps its hit head (pretrain.ts: frame_aux.ts's 'hits' head at the root). */
const STAGE_ONE_HITS = 'frame_aux.hits.';

/**
 * Puts a stage-1 run's encoder weights (and its audio counting head, for countTokens 'audio'; its hit head, under
 * 'hit_head', for countObjects) into the store under `p` (the 'encoder' scope) unless the store already holds encoder
 * weights (a trained run being loaded for inference), and freezes them with `freezeEncoders` (the hit head always).
 */
export function seedEncoders(p: Scope, cfg: FavorConfig): void {
  const hitHead = p.path('hit_head');
  const prefixes = [
    p.path('visual'),
    p.path('audio'),
    ...(stageOneCountHead(cfg) ? [p.path('count_head')] : []),
    ...(cfg.countObjects ? [hitHead] : []),
  ];
  const own = (name: string) => prefixes.some((x) => name.startsWith(`${x}.`));
  if (cfg.freezeEncoders) for (const x of prefixes) p.store.freeze(x);
  if (cfg.countObjects) p.store.freeze(hitHead);
  if (!cfg.encoders || p.store.names().some(own)) return;
  const run = loadRun(cfg.encoders, { tasks: ['favor'], flag: 'model.encoders' });
  const theirs = (run.config.model ?? {}) as Record<string, unknown>;
  if (cfg.countObjects && !((theirs.hitAux as number | undefined) ?? 0))
    throw new ConfigError(`model.countObjects reads the hit head of model.encoders ${cfg.encoders}, which has none`, {
      field: 'model.countObjects',
      expected: 'a stage-1 run with model.hitAux > 0',
      got: 'hitAux 0',
    });
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
    const local = name.startsWith(STAGE_ONE_HITS)
      ? `hit_head.${name.slice(STAGE_ONE_HITS.length)}`
      : name.replace(/^encoder\./, '');
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
