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
    ...(cfg.voiceCounts ? [p.path('voice_head')] : []),
  ];
  const prefixes = [
    p.path('visual'),
    p.path('audio'),
    ...(stageOneCountHead(cfg) ? [p.path('count_head')] : []),
    ...heads,
  ];
  if (cfg.freezeEncoders) for (const x of prefixes) p.store.freeze(x);
  for (const x of heads) p.store.freeze(x);
  // A trained run loaded for inference holds them all; one given a head it was trained without (model.voiceCounts
  // on a run trained before it, bench/favor_rescore --set) takes only that head from model.encoders.
  const held = (x: string) => p.store.names().some((name) => name.startsWith(`${x}.`));
  const missing = prefixes.filter((x) => !held(x));
  if (!cfg.encoders || !missing.length) return;
  const own = (name: string) => missing.some((x) => name.startsWith(`${x}.`));
  const run = loadRun(cfg.encoders, { tasks: ['favor'], flag: 'model.encoders' });
  const theirs = (run.config.model ?? {}) as Record<string, unknown>;
  if (cfg.voiceCounts && !((theirs.voiceAux as number | undefined) ?? 0))
    throw new ConfigError(`model.voiceCounts reads the voice head of model.encoders ${cfg.encoders}, which has none`, {
      field: 'model.voiceCounts',
      expected: 'a stage-1 run with model.voiceAux > 0',
      got: 'voiceAux 0',
    });
  if (cfg.countObjects && !((theirs.hitAux as number | undefined) ?? 0))
    throw new ConfigError(`model.countObjects reads the hit head of model.encoders ${cfg.encoders}, which has none`, {
      field: 'model.countObjects',
      expected: 'a stage-1 run with model.hitAux > 0',
      got: 'hitAux 0',
    });
  checkEncoderFields(cfg, theirs);
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

/** Refuses a stage-1 run (its model config `theirs`) whose encoder settings differ from `cfg`'s, naming the field. */
function checkEncoderFields(cfg: FavorConfig, theirs: Record<string, unknown>): void {
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
}

/**
 * Stage 1 started from another stage-1 run (`model.encoders` with stage 'encoders'): every weight of that run under
 * the root scope `root` (encoders and heads, same names), frozen with `freezeEncoders`, so a head it lacks (voiceAux)
 * is trained on its encoders as they are, and the run it starts keeps the other heads for stage 2 to read. Skipped
 * when the store already holds encoder weights (a finished run being loaded).
 */
export function seedStageOne(root: Scope, cfg: FavorConfig): void {
  if (!cfg.encoders) return;
  const run = loadRun(cfg.encoders, { tasks: ['favor'], flag: 'model.encoders' });
  const theirs = (run.config.model ?? {}) as Record<string, unknown>;
  if (theirs.stage !== 'encoders')
    throw new ConfigError(`model.encoders ${cfg.encoders} is not a stage-1 run (model.stage encoders)`, {
      field: 'model.encoders',
      expected: 'encoders',
      got: theirs.stage,
    });
  checkEncoderFields(cfg, theirs);
  const names = Object.keys(run.params).map((name) => root.path(name));
  if (cfg.freezeEncoders) for (const name of names) root.store.freeze(name);
  if (root.store.names().some((name) => name.startsWith(`${root.path('encoder')}.`))) return;
  for (const [name, value] of Object.entries(run.params)) root.store.set(root.path(name), value);
}
