import type { LogMelConfig, MfccConfig } from './audio_features.js';
import type { PixelFormat, ResizeMode } from './decode_video.js';
import type { FaceTrackOptions } from './face.js';
import type { VisualFeatureConfig } from './video_features.js';

/**
 * Named analysis settings. Audio configs follow the reference pipelines (see docs/media.md):
 * - mmaudio16k: MMAudio 16 kHz mel (n_fft 1024, hop 256, 80 Slaney mels to 8 kHz, magnitude, log10 floor 1e-5,
 *   BigVGAN padding: floor(N/256) frames = 62.5 Hz, so 8 s -> 500 frames -> 250 latents at 31.25 Hz).
 * - mmaudio44k: MMAudio 44.1 kHz mel (n_fft 2048, hop 512, 128 mels full band, ln).
 * - panns: PANNs Cnn14 front end (16 kHz, window 512, hop 160, 64 mels 50-8000 Hz, power, 10 log10 floor 1e-10).
 * - syncnetMfcc: python_speech_features.mfcc defaults as SyncNet uses them (25 ms rectangular window, 10 ms hop =
 *   100 frames/s, nfft 512, 26 HTK filters, pre-emphasis 0.97, 13 cepstra, lifter 22, c0 = log energy).
 */
export const AUDIO_PRESETS = {
  mmaudio16k: {
    sampleRate: 16000,
    nFft: 1024,
    hop: 256,
    winLength: 1024,
    window: 'hann',
    pad: 'bigvgan',
    power: 1,
    nMels: 80,
    fMin: 0,
    fMax: 8000,
    scale: 'slaney',
    norm: 'slaney',
    log: { kind: 'log10', floor: 1e-5 },
  },
  mmaudio44k: {
    sampleRate: 44100,
    nFft: 2048,
    hop: 512,
    winLength: 2048,
    window: 'hann',
    pad: 'bigvgan',
    power: 1,
    nMels: 128,
    fMin: 0,
    fMax: 22050,
    scale: 'slaney',
    norm: 'slaney',
    log: { kind: 'ln', floor: 1e-5 },
  },
  panns: {
    sampleRate: 16000,
    nFft: 512,
    hop: 160,
    winLength: 512,
    window: 'hann',
    pad: 'center',
    power: 2,
    nMels: 64,
    fMin: 50,
    fMax: 8000,
    scale: 'slaney',
    norm: 'slaney',
    log: { kind: 'db', floor: 1e-10 },
  },
  syncnetMfcc: {
    sampleRate: 16000,
    nFft: 512,
    hop: 160,
    winLength: 400,
    window: 'rect',
    pad: 'end',
    power: 2,
    preEmphasis: 0.97,
    nMels: 26,
    fMin: 0,
    fMax: 8000,
    scale: 'htk',
    norm: 'none',
    log: { kind: 'ln', floor: 2.220446049250313e-16 },
    nCeps: 13,
    lifter: 22,
    energyC0: true,
  },
} satisfies Record<string, LogMelConfig | MfccConfig>;

export type AudioFeatureSpec =
  | { kind: 'logmel'; name: string; config: LogMelConfig }
  | { kind: 'mfcc'; name: string; config: MfccConfig }
  | { kind: 'rms'; name: string; frameLength: number; hop: number }
  | { kind: 'onset'; name: string; config: LogMelConfig }
  | { kind: 'pitch'; name: string; hop: number; fMin?: number; fMax?: number };

export interface FeaturePreset {
  name: string;
  about: string;
  audio?: { sampleRate: number; features: AudioFeatureSpec[] };
  video?: {
    fps: number;
    width: number;
    height: number;
    resize: ResizeMode;
    pixelFormat: PixelFormat;
    visual: VisualFeatureConfig;
  };
  /** Face track on its own timeline (decoded separately at `width`, aspect kept): human's face models (face.ts). */
  face?: FaceTrackOptions & { fps: number; width: number };
}

const basicAudio: NonNullable<FeaturePreset['audio']> = {
  sampleRate: 16000,
  features: [
    { kind: 'logmel', name: 'logmel', config: AUDIO_PRESETS.panns },
    { kind: 'rms', name: 'rms', frameLength: 400, hop: 160 },
    { kind: 'onset', name: 'onset', config: AUDIO_PRESETS.panns },
    { kind: 'pitch', name: 'pitch', hop: 160, fMin: 60, fMax: 1000 },
  ],
};

const basicVideo: NonNullable<FeaturePreset['video']> = {
  fps: 8,
  width: 224,
  height: 224,
  resize: 'center-crop',
  pixelFormat: 'rgb',
  visual: { pixels: { width: 8, height: 8 }, moments: true, lumaGrid: { gx: 4, gy: 4 }, motionGrid: { gx: 4, gy: 4 } },
};

const faceTrack: NonNullable<FeaturePreset['face']> = { fps: 5, width: 640, scoreThreshold: 0.5, minFlag: 0.5 };

export const FEATURE_PRESETS: Record<string, FeaturePreset> = {
  'av-basic': { name: 'av-basic', about: 'audio-basic + video-basic (default)', audio: basicAudio, video: basicVideo },
  'audio-basic': {
    name: 'audio-basic',
    about: '16 kHz, 100 Hz: PANNs log-mel (64), RMS, spectral-flux onset, YIN pitch',
    audio: basicAudio,
  },
  'video-basic': {
    name: 'video-basic',
    about: '8 fps, 224 px center crop: 8x8 RGB pixels, color moments, 4x4 luma grid, 4x4 motion energy',
    video: basicVideo,
  },
  mmaudio16k: {
    name: 'mmaudio16k',
    about: 'MMAudio 16 kHz log-mel (80 mels, 62.5 Hz) + 8 fps 224 px frames (motion, color)',
    audio: { sampleRate: 16000, features: [{ kind: 'logmel', name: 'logmel', config: AUDIO_PRESETS.mmaudio16k }] },
    video: basicVideo,
  },
  mmaudio44k: {
    name: 'mmaudio44k',
    about: 'MMAudio 44.1 kHz log-mel (128 mels, ~86.1 Hz)',
    audio: { sampleRate: 44100, features: [{ kind: 'logmel', name: 'logmel', config: AUDIO_PRESETS.mmaudio44k }] },
  },
  panns: {
    name: 'panns',
    about: 'PANNs-style log-mel: 16 kHz, window 512, hop 160, 64 mels 50-8000 Hz (100 Hz)',
    audio: { sampleRate: 16000, features: [{ kind: 'logmel', name: 'logmel', config: AUDIO_PRESETS.panns }] },
  },
  syncnet: {
    name: 'syncnet',
    about: 'SyncNet-style: 13 MFCC at 100 Hz + 25 fps gray 32x32 pixels and motion (4 MFCC frames per video frame)',
    audio: { sampleRate: 16000, features: [{ kind: 'mfcc', name: 'mfcc', config: AUDIO_PRESETS.syncnetMfcc }] },
    video: {
      fps: 25,
      width: 224,
      height: 224,
      resize: 'center-crop',
      pixelFormat: 'gray',
      visual: { pixels: { width: 32, height: 32 }, motionGrid: { gx: 4, gy: 4 } },
    },
  },
  face: {
    name: 'face',
    about: 'face track at 5 fps: box, mouth opening, 7 expression probabilities (blazeface, facemesh, emotion)',
    face: faceTrack,
  },
  'av-face': { name: 'av-face', about: 'av-basic + face track', audio: basicAudio, video: basicVideo, face: faceTrack },
};

export function presetNames(): string[] {
  return Object.keys(FEATURE_PRESETS);
}
