/**
 * The emotion model's configuration: one switch per piece of the seed's design, so every ablation row is a `--set`
 * away (`model.fusion=uni-ta`, `model.multiLevel=false`, `model.modalities=text`, ...), and the fixed input sizes
 * the host-side features and the graph agree on.
 */
export const EMOTION_CLASSES = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;

/** Hashed word vocabulary: ids 0 = padding, 1 = "text missing", words hash into [2, WORD_BUCKETS). */
export const WORD_BUCKETS = 4096;
/** Audio frames per second after pooling the 100 Hz features by 4 (40 ms per frame). */
export const AUDIO_RATE = 25;
export const FEATURE_POOL = 4;
/** 80 log-mel bands + log f0, energy, voicing. */
export const N_MELS = 80;
export const AUDIO_DIM = N_MELS + 3;
/** Utterance functionals of the voice (features.ts `utteranceFunctionals`), one input vector per item. */
export const UTTERANCE_FEATURES = [
  'f0_mean',
  'f0_std',
  'f0_p10',
  'f0_p50',
  'f0_p90',
  'energy_mean',
  'energy_std',
  'voiced_fraction',
  'seconds',
] as const;
export const UTTERANCE_DIM = UTTERANCE_FEATURES.length;
/** Metadata vocabularies: gender (unknown, female, male), age group (unknown, young, adult, senior), timbre and accent (hashed). */
export const GENDERS = ['unknown', 'female', 'male'] as const;
export const AGES = ['unknown', 'young', 'adult', 'senior'] as const;
export const TIMBRE_BUCKETS = 64;
/** Accents (EmoSpeech's eSpeak voice, a corpus's dialect) hash into this many ids; 0 = unknown. */
export const ACCENT_BUCKETS = 16;

export type Fusion = 'concat' | 'uni-ta' | 'uni-at' | 'bi';
export type Modalities = 'text' | 'audio' | 'both';

export interface EmotionModelConfig {
  dim: number;
  heads: number;
  /** Transformer blocks of the text encoder and of the audio encoder (after its convolutions). */
  textLayers: number;
  audioLayers: number;
  /** Kernel of the audio encoder's temporal convolutions. */
  kernel: number;
  /** concat: pooled encodings only; uni-ta: text queries audio; uni-at: audio queries text; bi: both directions. */
  fusion: Fusion;
  /** Concat(T_att, A_att, T_raw, A_raw) instead of the attended features alone. */
  multiLevel: boolean;
  /** sigma(W_g H + b_g) * H + H (the seed's gated integration) instead of H. */
  gate: boolean;
  /** Embed the speaker's gender, age group, timbre and accent and add them to the fused vector. */
  metadata: boolean;
  /** Which inputs the model reads at all (the text-only / audio-only rows). */
  modalities: Modalities;
  /**
   * Add utterance-level prosody functionals (UTTERANCE_FEATURES: voiced log f0 mean, std and percentiles, energy,
   * voiced fraction, duration) to the audio side: pitch relative to the speaker is what separates happy from
   * surprised, and a percentile over voiced frames is not something mean pooling of all frames can give.
   */
  prosodyStats: boolean;
  /** Learn the attention temperature (per head) instead of a fixed 1/sqrt(d_k). */
  learnedTemperature: boolean;
  /** Hidden width of the classification head. */
  hidden: number;
  dropout: number;
  /** Weight of the seed's diversity loss -sum H(alpha) on the cross-modal attention rows (0 = off). */
  entropyWeight: number;
  /** Weight of the seed's alignment loss sum sim(t_i, a_j) (1 - alpha_ij)^2 (0 = off). */
  alignWeight: number;
  /** Weight of word-timing supervision: -log of a word's text->audio mass inside its spoken interval (0 = off). */
  groundWeight: number;
}

export const emotionSmall = (): EmotionModelConfig => ({
  dim: 48,
  heads: 4,
  textLayers: 1,
  audioLayers: 1,
  kernel: 5,
  fusion: 'bi',
  multiLevel: true,
  gate: true,
  metadata: true,
  modalities: 'both',
  prosodyStats: true,
  learnedTemperature: true,
  hidden: 64,
  dropout: 0.1,
  entropyWeight: 0,
  alignWeight: 0,
  groundWeight: 0.1,
});

export const emotionTiny = (): EmotionModelConfig => ({ ...emotionSmall(), dim: 32, heads: 2, hidden: 32 });

export const emotionBase = (): EmotionModelConfig => ({
  ...emotionSmall(),
  dim: 96,
  heads: 4,
  textLayers: 2,
  audioLayers: 2,
  hidden: 128,
});

/** Shape facts of one traced graph: batch, words, audio frames. */
export interface EmotionShape {
  batch: number;
  words: number;
  frames: number;
}
