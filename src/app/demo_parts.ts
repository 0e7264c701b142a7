/**
 * The parts of `attune demo` beyond av-align and av-sync, one entry each (the app-level twin of the model
 * registry): what the part shows, and a function that trains and evaluates it in a reduced setting under its own
 * folder and returns report sections plus a summary whose `headline` the terminal prints. A new part is one entry.
 */
import type { Section } from '../report/spec.js';

export const DEMO_PARTS = ['align', 'sync', 'emotion', 'favor', 'v2a'] as const;
export type DemoPart = (typeof DEMO_PARTS)[number];

export interface ExtraPartContext {
  /** the part's own folder under the demo's --out */
  out: string;
  seed: number;
  quick: boolean;
  quiet: boolean;
}

export interface ExtraPartResult {
  /** one paragraph for the report: what ran and how to read the sections */
  text: string;
  sections: Section[];
  summary: Record<string, unknown> & { headline: string };
}

export interface ExtraPart {
  title: string;
  about: string;
  run(ctx: ExtraPartContext): Promise<ExtraPartResult>;
}

export const EXTRA_DEMO_PARTS: Record<Exclude<DemoPart, 'align' | 'sync'>, ExtraPart> = {
  emotion: {
    title: 'Emotion from words and voice (design source 002)',
    about:
      'emotion on EmoSpeech: text only, audio only, concatenation and the full cross-attention model, then heat maps of test utterances',
    async run(ctx) {
      const { runEmotionDemo } = await import('./emotion_demo.js');
      const r = await runEmotionDemo({
        out: ctx.out,
        seed: ctx.seed,
        quiet: ctx.quiet,
        ...(ctx.quick ? { n: 200, epochs: 4, heatmaps: 1 } : {}),
      });
      const rows = Object.entries(r.summary.rows);
      const headline = `test accuracy ${rows.map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')} (${r.summary.n} EmoSpeech utterances)`;
      return {
        text: 'EmoSpeech utterances (speech synthesized with eSpeak-NG, labels that need the words, the voice and the speaker) classified by a text-only, an audio-only, a concatenation and the full model (bidirectional text-audio attention, multi-level fusion, metadata, gate). The heat maps show, for test utterances, where each word looked in the voice (seconds) and back.',
        sections: r.sections,
        summary: { headline, ...r.summary },
      };
    },
  },
  favor: {
    title: 'FAVOR: questions about a video (design source 001)',
    about:
      'FAVOR on AVQA scenes: full model, no synchronization and question-only, then test questions with attention per window',
    async run(ctx) {
      const { runFavorDemo } = await import('./favor_demo.js');
      const r = await runFavorDemo({
        out: ctx.out,
        quiet: ctx.quiet,
        seeds: [ctx.seed + 1],
        ...(ctx.quick ? { epochs: 2, examples: 3 } : {}),
      });
      const full = r.rows[0]?.metrics['test.acc']?.mean;
      const headline = `test accuracy of full FAVOR ${full === undefined ? 'n/a' : full.toFixed(3)} over all question families (table in the report)`;
      return {
        text: 'A small FAVOR model (per-frame visual and audio encoders, frame-level synchronization, a windowed causal Q-Former and a small language model) trained on short AVQA scenes, next to the same model without synchronization and a question-only model that sees nothing. The second table answers a few test questions and shows how much of each answer came from each window.',
        sections: r.sections,
        summary: {
          headline,
          seconds: r.seconds,
          rows: r.rows.map((row) => ({ name: row.name, accuracy: row.metrics['test.acc']?.mean ?? null })),
        },
      };
    },
  },
  v2a: {
    title: 'Sound for silent video (design source 003)',
    about:
      'v2a: flow matching from AV-Synth video to sound, evaluated on held-out scenes, generated and real spectrograms with WAV files',
    async run(ctx) {
      const { runV2aDemo } = await import('./v2a_demo.js');
      const r = await runV2aDemo({ out: ctx.out, quick: ctx.quick, seed: ctx.seed, quiet: ctx.quiet });
      const m = r.metrics;
      const pick = (k: string) => Object.entries(m).find(([key]) => key.endsWith(k))?.[1];
      const fmt = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(3));
      const headline = `generated sound on held-out scenes: onset F1 ${fmt(pick('onsetF1'))}, DeSync ${fmt(pick('desync'))} s (WAV files in ${ctx.out}/audio)`;
      return {
        text: `A small MMAudio-style network (joint attention over audio latent, video frames and text; sync features per audio token; aligned RoPE) trained by flow matching on AV-Synth, sampling 25 Euler steps with CFG 4.5. The spectrograms compare generated and real sound for held-out scenes, with the impact times in the titles; the WAV files are in ${ctx.out}/audio.`,
        sections: r.sections,
        summary: { headline, seconds: r.seconds, metrics: m, audio: r.audio },
      };
    },
  },
};
