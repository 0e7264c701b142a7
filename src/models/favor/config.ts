/**
 * FAVOR model settings (issue #11, ../shared/reference/favor_mult.md section 1) and the sizes the stream layout fixes.
 * One plain object; the task validates it with zod (task.ts) and every graph is traced from it.
 */
import type { FavorAudioContext } from './audio_context.js';
import { countTokenCount } from './count_tokens.js';

/** How the Q-Former's frame tokens attend across frames: 'future' = FAVOR's released code (triu), 'past' = the usual. */
export type FavorCausal = 'none' | 'past' | 'future';
/**
 * 'frame': FAVOR's synchronization (25 audio tokens per visual frame joined along features).
 * 'window': Video-LLaMA style, the visual Q-Former sees frames only; audio goes through its own Q-Former per window
 * and its tokens follow that window's visual tokens. 'none': the same, but all audio tokens come after all visual ones.
 */
export type FavorSync = 'frame' | 'window' | 'none';

/** What the count tokens sum over the clip (see FavorConfig.countTokens). */
export type FavorCountTokens = 'off' | 'frames' | 'onsets' | 'audio';
/** How the question picks its sound's count token (see FavorConfig.countAsked). */
export type FavorCountAsked = 'off' | 'mask' | 'copy' | 'point';

/** 'answer': the whole model answers questions. 'encoders': stage 1, only the two stream encoders, per frame (pretrain.ts). */
export type FavorStage = 'answer' | 'encoders';

export interface FavorConfig {
  /** Visual tokens per frame side: a 32 px frame in patches of `patch` px gives (32 / patch)^2 tokens. */
  patch: number;
  /**
   * Side of the frames the visual encoder reads (px): 32, or 64 (the scenes' own size, conv stem only; its extra
   * first layer and pooling bring the feature map back to the 32 px stem's, so the tokens are the same count).
   */
  frameSize: 32 | 64;
  /** What the visual tokens are cut from: raw RGB patches ('patch') or a small conv stem's feature map ('conv', stem.ts). */
  visualStem: 'patch' | 'conv';
  /** Channels of the conv stem's first layer (the later two have twice as many). */
  stemDim: number;
  /** Where the conv stem pools: after its first and second convolutions ('early'), or its second and third ('late'). */
  stemPool: 'early' | 'late';
  /**
   * Conv stem: frames on each side of a frame that its tokens also see (stem.ts; 0 = the frame alone). An impact
   * happens between two 2 Hz snapshots and shows only as a change of direction across them.
   */
  frameContext: number;
  /** Which stage this run trains (see FavorStage). */
  stage: FavorStage;
  /** Run folder of a stage-1 ('encoders') run whose encoder weights start this model's (null: from scratch). */
  encoders: string | null;
  /** Keep the encoders' weights fixed (FAVOR's encoders are pretrained and frozen). */
  freezeEncoders: boolean;
  /**
   * With frozen stage-1 encoders: run them once per clip before training and train on their outputs
   * (encoder_cache.ts) instead of re-running them every step. The same numbers, computed once; false = every step.
   */
  cacheEncoders: boolean;
  /** Features of the per-pixel MLP the patches are cut from (encoders.ts; 0 = patches of raw RGB). */
  pixelDim: number;
  /** Encoder widths of the visual and audio tokens (joined width = visualDim + audioDim). */
  visualDim: number;
  audioDim: number;
  /** Audio encoder temporal convolution kernel (frames at 50 Hz). */
  audioKernel: number;
  /** Stage 2: what each audio token carries of its frame before synchronization (audio_context.ts; 'none' = as encoded). */
  audioContext: FavorAudioContext;
  /** Frames per Q-Former window (stride = window: non-overlapping, as FAVOR). */
  window: number;
  /** Learned queries per window. */
  queries: number;
  /**
   * Initial standard deviation of a learned embedding per frame of a window, added to that frame's tokens before the
   * Q-Former (qformer.ts; 0 = none): which frame a token is from, at the scale of the tokens themselves.
   */
  framePos: number;
  qformerLayers: number;
  heads: number;
  causal: FavorCausal;
  sync: FavorSync;
  /** Diversity loss factor (FAVOR 0.01; 0 = off). */
  diversity: number;
  /**
   * Standard deviation of the learned queries' initial values. nn.qFormer's own 0.02 leaves the queries so small
   * that the first cross-attention's output (the same for every query while attention is near uniform) swamps them
   * in the residual and the queries collapse to one vector.
   */
  queryInit: number;
  /** Factor of the auxiliary answer classifier over the AV tokens (aux.ts; training only; 0 = off). */
  answerAux: number;
  /** Factor of the per-frame supervision of the encoders from the scene's ground truth (frame_aux.ts; 0 = off). */
  frameAux: number;
  /** Per-frame heads behind stopGradient: a linear probe of the encoders that does not train them. */
  frameProbe: boolean;
  /**
   * Stage 1: factor of the per-token BCE of the visual head against per-token labels (each object labels the token
   * holding its centre; frame_aux.ts); 0 = frame labels only.
   */
  tokenAux: number;
  /**
   * Stage 1: factor of a third per-frame head on the visual tokens that predicts which objects hit the wall in each
   * frame's half second (frameLabels' hits; frame_aux.ts); 0 = off. Wants `frameContext` > 0 to see the impacts.
   */
  hitAux: number;
  /**
   * Stage 1: factor of the audio counting head's Poisson NLL against the impacts heard in each 50 Hz token
   * (count_tokens.ts, audioTokenRates; frameLabels' audioTokenOnsets), trained with the audio encoder so its tokens
   * mark onsets; stage 2's countTokens 'audio' starts from the head and keeps it frozen; 0 = off.
   */
  onsetAux: number;
  /**
   * Stage 1: factor of the voice head's cross-entropy: a linear head on the audio tokens (a token and the two after
   * it) that says which voice (synth class, 48) an impact around each token is (voices.ts; frameLabels'
   * audioTokenVoices); stage 2's voiceCounts reads it, frozen; 0 = off. With model.encoders (a stage-1 run) and
   * freezeEncoders, stage 1 starts from that run and trains only the heads it lacks (encoder_init.ts).
   */
  voiceAux: number;
  /**
   * Stage 2: factor of the per-frame supervision of the Q-Former's output queries (query_aux.ts: a linear head reads a
   * window's queries and predicts its frames' looks and sounds); 0 = off.
   */
  queryAux: number;
  /**
   * Stage 2, with queryAux: factor of the query head's BCE against which objects hit the wall in each frame (their
   * looks, colours, shapes: frameLabels' hits); 0 = off. Counts, order and "right after" ask about impacts.
   */
  queryHits: number;
  /**
   * Stage 2: factor of a head on the LM's state at the answer positions that predicts how many frames hold each kind
   * of sound (lm_aux.ts: makes the LM gather the sounds its AV tokens hold); 0 = off.
   */
  lmAux: number;
  /**
   * Stage 2, with queryAux: give the LM the clip's counts as tokens, one per kind of sound (and per hit label, with
   * queryHits), so it reads a count instead of adding one up (count_tokens.ts; docs/favor.md, session 15). 'frames':
   * the query head's 0/1 frame labels summed over the clip (frames holding each); 'onsets': a count per frame the
   * head also predicts (impacts in that half second), summed; 'audio': a head on the audio encoder's 50 Hz tokens
   * counts each sound's impacts, before the Q-Former (sounds only; the stage-1 run's head when it trained one with
   * onsetAux); 'off': none.
   */
  countTokens: FavorCountTokens;
  /**
   * countTokens 'audio': count the counting head's peaks, tokens whose rate is above this and a local maximum in
   * time, instead of summing its rates (count_tokens.ts, audioPeakCounts; docs/favor.md, session 16); 0 = the sum.
   */
  countPeaks: number;
  /**
   * Count tokens in the LM's word space (sounds only): each token is the LM's embedding of its sound word plus its
   * embeddings of the numbers 0..12 weighted by the count's bins, instead of a linear map of the bins and a learned
   * label (count_tokens.ts; docs/favor.md, session 16).
   */
  countWords: boolean;
  /**
   * With count tokens: the question picks its sound's count token in the graph (count_asked.ts; docs/favor.md,
   * session 17). 'mask': when the question names sound words, the LM sees only their count tokens; 'copy': that,
   * and a gated copy path that adds the log of the named sound's count bins to the number words' logits; 'point':
   * 'copy', and where the question names no sound, the LM's state picks one (a softmax over the four); 'off': the
   * LM reads all count tokens and picks one itself.
   */
  countAsked: FavorCountAsked;
  /**
   * With countAsked 'copy' or 'point' and countTokens 'audio': a question that names an object (a colour and a shape
   * word) and no sound copies that object's count: the counter's impacts of the sound its hits bind it to, or for a
   * silent object the frames the stage-1 run's hit head (model.hitAux, frozen) calls a hit (count_objects.ts,
   * object_answers.ts' objectCounts; docs/favor.md, session 19). Needs model.encoders to be such a run.
   */
  countObjects: boolean;
  /**
   * With countObjects: the impacts of a sound that two or more objects are bound to are shared out among them, each
   * impact to the objects whose hits are near it (object_answers.ts' splitImpacts; docs/favor.md, session 21), instead
   * of each of them counting the sound's every impact.
   */
  splitSounds: boolean;
  /**
   * With countObjects and countPeaks > 0: an object whose sound word another object's hits are also bound to is
   * counted by the counter's impacts of its own voice, which the stage-1 run's voice head (model.voiceAux, frozen)
   * tells apart (voices.ts; docs/favor.md, session 23). Needs model.encoders to be such a run.
   */
  voiceCounts: boolean;
  /**
   * With countObjects and countTokens 'audio': the hit head's frames and the counter's impacts also answer which of
   * the named objects hit the wall first, which object makes a named sound, which made the sound at a named time,
   * what a named object sounds like and whether the first-named of two sounds was heard first, through gated copy
   * paths onto the colour, shape, sound and yes/no words (object_answers.ts; docs/favor.md, session 19).
   */
  objectAnswers: boolean;
  /**
   * With objectAnswers: the stage-1 run's visual head (frame_aux.visual, frozen) answers "what color is the {shape}",
   * "what shape is the {color} object" and "how many (gray) objects are there" through objectAnswers' colour and
   * shape gates and countAsked's copy path (visual_answers.ts; docs/favor.md, session 20).
   */
  visualAnswers: boolean;
  /**
   * With objectAnswers: the hit head's frames and the counter's impacts also answer "which object made the first
   * sound", "which other object hit the wall right after the {object} first hit the wall" and "what was heard right
   * after ..." through objectAnswers' look and sound gates (event_answers.ts; docs/favor.md, session 21).
   */
  eventAnswers: boolean;
  /**
   * Stage 2: add a projection of the question's mean word embedding to every AV token the LM reads (lm.ts), so the
   * LM's AV positions know which sound or object is asked about before its answer position reads them.
   */
  questionAv: boolean;
  /** Stage 1: mirror each train clip's frames left to right with probability 1/2 (the labels do not change). */
  flip: boolean;
  /** Language model width and layers. */
  lmDim: number;
  lmLayers: number;
  /** No AV tokens at all: the LM reads the question only (the question-only baseline). */
  questionOnly: boolean;
}

/** Stream layout (docs/avqa.md): 2 Hz frames of 32 px, 64-band log-mel at 50 Hz, 25 audio frames per visual frame. */
export const FRAME_SIZE = 32;
export const MEL_BANDS = 64;
export const AUDIO_PER_FRAME = 25;

export const favorSmall = (): FavorConfig => ({
  patch: 8,
  frameSize: 32,
  visualStem: 'patch',
  stemDim: 16,
  stemPool: 'early',
  frameContext: 0,
  stage: 'answer',
  encoders: null,
  freezeEncoders: false,
  cacheEncoders: true,
  pixelDim: 0,
  visualDim: 32,
  audioDim: 32,
  audioKernel: 5,
  audioContext: 'none',
  window: 10,
  queries: 8,
  framePos: 0,
  qformerLayers: 2,
  heads: 4,
  causal: 'future',
  sync: 'frame',
  diversity: 0.01,
  queryInit: 1,
  answerAux: 1,
  frameAux: 0,
  frameProbe: false,
  tokenAux: 0,
  hitAux: 0,
  onsetAux: 0,
  voiceAux: 0,
  queryAux: 0,
  queryHits: 0,
  lmAux: 0,
  countTokens: 'off',
  countPeaks: 0,
  countWords: false,
  countAsked: 'off',
  countObjects: false,
  splitSounds: false,
  voiceCounts: false,
  objectAnswers: false,
  visualAnswers: false,
  eventAnswers: false,
  questionAv: false,
  flip: false,
  lmDim: 64,
  lmLayers: 2,
  questionOnly: false,
});

export const favorTiny = (): FavorConfig => ({
  ...favorSmall(),
  patch: 16,
  visualDim: 16,
  audioDim: 16,
  queries: 4,
  qformerLayers: 1,
  lmDim: 32,
  lmLayers: 1,
});

/** Visual tokens per frame and values per visual token. */
export function visualTokens(cfg: Pick<FavorConfig, 'patch'>): { tokens: number; values: number } {
  return { tokens: (FRAME_SIZE / cfg.patch) ** 2, values: cfg.patch * cfg.patch * 3 };
}

/** Values per raw frame row (32 x 32 RGB, row-major y, x, channel). */
export const FRAME_VALUES = FRAME_SIZE * FRAME_SIZE * 3;

/** Values per raw frame row of `size` px frames. */
export const frameValues = (size: number): number => size * size * 3;

/** Windows for `frames` frames (the last one padded). */
export const windowsFor = (frames: number, cfg: Pick<FavorConfig, 'window'>): number => Math.ceil(frames / cfg.window);

/** AV tokens the language model reads for `windows` windows. */
export function avTokenCount(
  windows: number,
  cfg: Pick<FavorConfig, 'queries' | 'sync' | 'questionOnly' | 'countTokens' | 'queryHits'>,
): number {
  if (cfg.questionOnly) return 0;
  return windows * cfg.queries * (cfg.sync === 'frame' ? 1 : 2) + countTokenCount(cfg);
}
