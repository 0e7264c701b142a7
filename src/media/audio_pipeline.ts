import { logMel, mfcc, onsetEnvelope, rmsEnergy, spectralFlux } from './audio_features.js';
import { yin } from './pitch.js';
import type { AudioFeatureSpec } from './presets.js';
import { RowBuffer } from './rows.js';
import type { Stream } from '../timeline/timeline.js';

/**
 * Computes frame features over audio that arrives in chunks, with bounded memory and results identical to running
 * the whole-signal functions: the signal is cut into segments of `segmentFrames` output frames, each computed with
 * `context` extra samples on both sides (at least one analysis window plus one hop), and only the frames whose
 * windows lie inside the segment are kept. The first and last segments see the true signal edges, so edge padding
 * is the same as for the whole signal.
 */
type FeatureFn = (x: Float32Array, t0: number) => Stream;

interface Segmenter {
  name: string;
  hop: number;
  context: number;
  fn: FeatureFn;
  next: number; // next output frame
  rows: RowBuffer | null;
  rate: number;
  start: number;
}

function featureFn(spec: AudioFeatureSpec, sampleRate: number): { fn: FeatureFn; hop: number; window: number } {
  switch (spec.kind) {
    case 'logmel':
      return { fn: (x, t0) => logMel(x, spec.config, t0), hop: spec.config.hop, window: spec.config.nFft };
    case 'mfcc':
      return { fn: (x, t0) => mfcc(x, spec.config, t0), hop: spec.config.hop, window: spec.config.nFft };
    case 'onset':
      return {
        fn: (x, t0) => onsetEnvelope(x, spec.config, t0),
        hop: spec.config.hop,
        window: spec.config.nFft + spec.config.hop,
      };
    case 'rms':
      return {
        fn: (x, t0) => rmsEnergy(x, { sampleRate, frameLength: spec.frameLength, hop: spec.hop }, t0),
        hop: spec.hop,
        window: spec.frameLength,
      };
    case 'pitch': {
      const cfg = { sampleRate, hop: spec.hop, fMin: spec.fMin, fMax: spec.fMax };
      const tauMax = Math.ceil(sampleRate / (spec.fMin ?? 60));
      return { fn: (x, t0) => yin(x, cfg, t0), hop: spec.hop, window: Math.ceil(1.5 * tauMax) + tauMax + 2 };
    }
  }
}

export class AudioFeaturePipeline {
  private readonly sampleRate: number;
  private readonly t0: number;
  private readonly segmentSeconds: number;
  private readonly segs: Segmenter[];
  private buf = new Float32Array(0);
  private bufStart = 0; // global sample index of buf[0]
  private bufLen = 0;
  private total = 0; // samples received

  /** Onset envelopes computed from a log-mel stream the pipeline already makes (same settings): name -> logmel name. */
  private readonly derivedOnsets = new Map<string, string>();

  constructor(specs: AudioFeatureSpec[], sampleRate: number, t0 = 0, segmentSeconds = 20) {
    this.sampleRate = sampleRate;
    this.t0 = t0;
    this.segmentSeconds = segmentSeconds;
    const logmels = specs.filter((s) => s.kind === 'logmel');
    const own = specs.filter((spec) => {
      if (spec.kind !== 'onset') return true;
      const same = logmels.find((m) => JSON.stringify(m.config) === JSON.stringify(spec.config));
      if (same) this.derivedOnsets.set(spec.name, same.name);
      return !same;
    });
    this.segs = own.map((spec) => {
      const { fn, hop, window } = featureFn(spec, sampleRate);
      const context = Math.ceil((window + 2 * hop) / hop) * hop;
      return { name: spec.name, hop, context, fn, next: 0, rows: null, rate: sampleRate / hop, start: t0 };
    });
  }

  private framesPerSegment(s: Segmenter): number {
    return Math.max(1, Math.round((this.segmentSeconds * this.sampleRate) / s.hop));
  }

  /** Appends mono samples and computes every segment that is now complete. */
  push(samples: Float32Array): void {
    if (this.bufLen + samples.length > this.buf.length) {
      const next = new Float32Array(Math.max(this.bufLen + samples.length, this.buf.length * 2));
      next.set(this.buf.subarray(0, this.bufLen));
      this.buf = next;
    }
    this.buf.set(samples, this.bufLen);
    this.bufLen += samples.length;
    this.total += samples.length;
    for (const s of this.segs) {
      while ((s.next + this.framesPerSegment(s)) * s.hop + s.context <= this.total) this.run(s, false);
    }
    this.trim();
  }

  private run(s: Segmenter, final: boolean): void {
    const S = this.framesPerSegment(s);
    const a = Math.max(0, s.next * s.hop - s.context);
    const b = final ? this.total : (s.next + S) * s.hop + s.context;
    const sub = this.buf.subarray(a - this.bufStart, b - this.bufStart);
    const out = s.fn(sub, this.t0 + a / this.sampleRate);
    const offset = a / s.hop;
    if (!s.rows) {
      s.rows = new RowBuffer(out.dim, 1024);
      s.rate = out.rate;
      s.start = out.start; // the first segment starts at sample 0, so its timing is the stream's
    }
    const from = s.next - offset;
    const to = final ? out.frames : Math.min(out.frames, from + S);
    s.rows.pushRows(out.data, from, to);
    s.next += Math.max(0, to - from);
  }

  /** Drops samples no segmenter needs any more. */
  private trim(): void {
    let keepFrom = this.total;
    for (const s of this.segs) keepFrom = Math.min(keepFrom, Math.max(0, s.next * s.hop - s.context));
    const drop = keepFrom - this.bufStart;
    if (drop <= 0) return;
    this.buf.copyWithin(0, drop, this.bufLen);
    this.bufLen -= drop;
    this.bufStart = keepFrom;
  }

  /** Processes the tail and returns one Stream per feature name. */
  finish(): Record<string, Stream> {
    const result: Record<string, Stream> = {};
    for (const s of this.segs) {
      if (this.total > 0) this.run(s, true);
      result[s.name] = s.rows ? s.rows.toStream(s.rate, s.start) : new RowBuffer(1).toStream(s.rate, s.start);
    }
    for (const [name, from] of this.derivedOnsets) result[name] = spectralFlux(result[from]);
    return result;
  }
}
