/** Media in: ffmpeg decoding, audio and visual features, presets. Streams and windows are in src/timeline; feature jobs in src/data. See docs/media.md. */
export * from './ffmpeg.js';
export * from './probe.js';
export * from './timing.js';
export * from './decode_audio.js';
export * from './decode_video.js';
export * from './fft.js';
export * from './stft.js';
export * from './mel.js';
export * from './audio_features.js';
export * from './pitch.js';
export * from './audio_pipeline.js';
export * from './visual.js';
export * from './video_features.js';
export * from './face.js';
export * from './presets.js';
export * from './features.js';
