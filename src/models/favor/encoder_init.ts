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

/** Where stage 1 keeps its frozen heads (pretrain.ts: frame_aux.ts's heads at the root), and where stage 2 puts them. */
const STAGE_ONE_HEADS = { hit_head: 'frame_aux.hits.', look_head: 'frame_aux.visual.' } as const;

/** A stage-1 weight's name under the encoder scope: a head's moved (STAGE_ONE_HEADS), an encoder's unprefixed. */
function localName(name: string): string {
  const head = Object.entries(STAGE_ONE_HEADS).find(([, from]) => name.startsWith(from));
  return head ? `${head[0]}.${name.slice(head[1].length)}` : name.replace(/^encoder\./, '');
}

/**
 * Puts a stage-1 run's encoder weights (and its audio counting head, for countTokens 'audio'; its hit head, under
 * 'hit_head', for countObjects; its visual head, under 'look_head', for visualAnswers) into the store under `p` (the
 * 'encoder' scope) unless the store already holds encoder weights (a trained run being loaded for inference), and
 * freezes them with `freezeEncoders` (the hit and visual heads always).
 */
export function seedEncoders(p: Scope, cfg: FavorConfig): void {
  const heads = [
    ...(cfg.countObjects ? [p.path('hit_head')] : []),
    ...(cfg.visualAnswers ? [p.path('look_head')] : []),
  ];
  const prefixes = [
    p.path('visual'),
    p.path('audio'),
    ...(stageOneCountHead(cfg) ? [p.path('count_head')] : []),
    ...heads,
  ];
  const own = (name: string) => prefixes.some((x) => name.startsWith(`${x}.`));
  if (cfg.freezeEncoders) for (const x of prefixes) p.store.freeze(x);
  for (const x of heads) p.store.freeze(x);
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
  if (cfg.visualAnswers && !Object.keys(run.params).some((name) => name.startsWith(STAGE_ONE_HEADS.look_head)))
    throw new ConfigError(
      `model.visualAnswers reads the visual head of model.encoders ${cfg.encoders}, which has none`,
      {
        field: 'model.visualAnswers',
        expected: 'a stage-1 run with model.frameAux > 0',
        got: 'no frame_aux.visual weights',
      },
    );
  let loaded = 0;
  for (const [name, value] of Object.entries(run.params)) {
    const full = p.path(localName(name));
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
